"""The analyst's calculator: a safe evaluator whose every operation is bounded before it runs.

Expressions are parsed with `ast` (never `eval`); only numbers, + - * / // % ** and a few named
functions are allowed. Arithmetic is done in floats, and a power is refused *before* it is computed
when its result would exceed MAX_MAGNITUDE, so no operation can take long or grow big. (A Python
big-integer power holds the GIL; refusing it up front is what keeps the analyst's event loop alive.
The calculation process adds a time budget on top: see calculation_process.py.)
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_EXPRESSION_CHARS = 300
MAX_MAGNITUDE = 1e100  # operands and results; a googol is past any everyday figure
MAX_DIGITS = 100

BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "log": math.log,
    "ln": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "min": min,
    "max": max,
}


class Refused(ValueError):
    """An expression the calculator will not evaluate; the message is a sentence for the user."""


def safe_eval(expression: str) -> float:
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise Refused(f"it is longer than the calculator's limit of {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.replace("^", "**").replace("×", "*").replace("÷", "/"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise Refused("it is not an arithmetic expression") from error
    return _walk(tree.body)


def _walk(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return _bounded(float(node.value))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return _power(_walk(node.left), _walk(node.right))
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left, right = _walk(node.left), _walk(node.right)
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
            raise Refused("it divides by zero")
        return _bounded(BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        return UNARY[type(node.op)](_walk(node.operand))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and not node.keywords
        and node.args
    ):
        args = [_walk(a) for a in node.args]
        try:
            return _bounded(float(FUNCTIONS[node.func.id](*args)))
        except (ValueError, OverflowError, TypeError) as error:
            raise Refused(f"{node.func.id} is not defined for those arguments") from error
    raise Refused("it holds something other than numbers, arithmetic and sqrt, log, exp, round, abs, min or max")


def _power(base: float, exponent: float) -> float:
    if base == 0:
        if exponent < 0:
            raise Refused("it divides by zero")
        return 0.0 if exponent > 0 else 1.0
    if base < 0 and exponent != int(exponent):
        raise Refused("a negative number has no real fractional power")
    digits = exponent * math.log10(abs(base))  # the size of the result, known before computing it
    if digits > MAX_DIGITS:
        raise Refused(
            f"the result would have about {_count(digits + 1)} digits, over the calculator's limit of {MAX_DIGITS}"
        )
    if digits < -MAX_DIGITS:
        return 0.0
    return _bounded(math.pow(base, exponent))


def _bounded(value: float) -> float:
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise Refused(f"a number in it is larger than the calculator's limit of 10^{MAX_DIGITS}")
    return value


def _count(digits: float) -> str:
    return f"{int(digits):,}" if digits < 1e15 else f"10^{math.log10(digits):.0f}"


# --- results ---------------------------------------------------------------------------------
@dataclass
class Computation:
    """One computed figure, with the expression and inputs it came from (kept in the trace)."""

    label: str  # what was computed, in the user's terms: "growth from 8 to 10"
    expression: str  # what the calculator evaluated
    value: float
    unit: str = ""  # "%", " minutes", ...
    currency: str = ""
    inputs: list[float] = field(default_factory=list)
    note: str = ""  # a gloss after the figure: "(a decline of 25%)"
    kind: str = ""  # what kind of question it answers ("tip", "payment", ...), for the reading check

    @property
    def figure(self) -> str:
        sign = "-" if self.value < 0 else ""
        shown = format_number(abs(self.value))
        if self.currency and 0.005 <= abs(self.value) < 1e15 and round(self.value, 2) != round(self.value):
            shown = f"{abs(self.value):,.2f}"  # money to the cent: $15.30, not $15.3
        return f"{sign}{self.currency}{shown}{self.unit}"

    @property
    def display(self) -> str:
        return f"{self.label} = {self.figure}" + (f" {self.note}" if self.note else "")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"figure": self.figure, "display": self.display}


@dataclass
class Refusal:
    """An expression the calculator refused, with the reason as a sentence."""

    expression: str
    reason: str

    @property
    def display(self) -> str:
        return f"Not computed: {self.expression} ({self.reason})"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"display": self.display}


def format_number(value: float) -> str:
    """Integers with separators; otherwise two decimals, or four significant digits below 1."""
    if abs(value) >= 1e15:
        mantissa, exponent = f"{value:.3e}".split("e")
        return f"{float(mantissa):g} × 10^{int(exponent)}"
    if value == round(value):
        return f"{round(value):,}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.4g}"
