"""The analyst's tools: a safe arithmetic evaluator and the statistics it reports.

Numbers come from computation here, never from the LLM. Expressions are parsed with `ast` and only
numbers, + - * / // % ** (with a bounded exponent) and a few named functions are evaluated.
"""

from __future__ import annotations

import ast
import csv
import io
import math
import operator
import re
import statistics
from dataclasses import asdict, dataclass

NUMBER = r"[-+]?\$?\d[\d,]*(?:\.\d+)?|[-+]?\$?\.\d+"
NUMBER_RE = re.compile(rf"(?<![\w.])({NUMBER})\s*(%|k\b|m\b|bn\b|million\b|billion\b|thousand\b)?", re.I)
SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
FROM_TO_RE = re.compile(
    rf"from\s+({NUMBER})\s*(k|m|bn|million|billion|thousand)?\b[^\d\n]{{0,40}}?\bto\s+({NUMBER})\s*(k|m|bn|million|billion|thousand)?\b",
    re.I,
)
YEARS_RE = re.compile(r"\bover\s+(\d+(?:\.\d+)?)\s+years?\b|\bin\s+(\d+(?:\.\d+)?)\s+years\b", re.I)
PERCENT_OF_RE = re.compile(rf"({NUMBER})\s*%\s+of\s+({NUMBER})", re.I)
WHAT_PERCENT_RE = re.compile(
    rf"(?:what|which)\s+percent(?:age)?\s+(?:is|of)\s+({NUMBER})\s+(?:of|out of|in)\s+({NUMBER})", re.I
)
LABEL_COLUMN_RE = re.compile(r"year|date|month|quarter|period|week|day|id\b", re.I)
EXPRESSION_RE = re.compile(r"[\d(][\d\s.,()+\-*/^%]*[+\-*/^][\d\s.,()+\-*/^%]*[\d)]")

BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
FUNCTIONS = {
    "sqrt": math.sqrt, "abs": abs, "round": round, "log": math.log, "exp": math.exp,
    "min": min, "max": max,
}
MAX_EXPONENT = 100
MAX_EXPRESSION_CHARS = 300


class UnsafeExpression(ValueError):
    pass


def safe_eval(expression: str) -> float:
    """Evaluate arithmetic without eval(): anything but numbers, operators and FUNCTIONS is refused."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise UnsafeExpression("expression too long")
    tree = ast.parse(expression.replace("^", "**"), mode="eval")

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
                raise UnsafeExpression("exponent too large")
            return BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            return UNARY[type(node.op)](walk(node.operand))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in FUNCTIONS and not node.keywords):
            return FUNCTIONS[node.func.id](*(walk(a) for a in node.args))
        raise UnsafeExpression(f"not allowed: {ast.dump(node)[:60]}")

    try:
        return float(walk(tree))
    except (ZeroDivisionError, OverflowError, TypeError) as error:
        raise UnsafeExpression(str(error)) from error


@dataclass
class Computation:
    label: str
    expression: str
    value: float
    unit: str = ""

    @property
    def display(self) -> str:
        return f"{self.label}: {format_number(self.value)}{self.unit}"

    def as_dict(self) -> dict:
        return asdict(self) | {"display": self.display}


def format_number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}"


def parse_number(text: str, suffix: str | None = None) -> float:
    value = float(text.replace(",", "").replace("$", ""))
    return value * SCALE.get((suffix or "").lower(), 1.0)


def numbers_in(text: str) -> list[float]:
    return [parse_number(m.group(1), m.group(2) if m.group(2) != "%" else None)
            for m in NUMBER_RE.finditer(text)]


def growth(start: float, end: float, years: float | None = None) -> list[Computation]:
    if start == 0:
        return []
    out = [Computation(f"growth from {format_number(start)} to {format_number(end)}",
                       f"({end} - {start}) / {start} * 100", (end - start) / start * 100, "%")]
    if years and years > 0 and start > 0 and end > 0:
        out.append(Computation(f"compound annual growth rate over {format_number(years)} years",
                               f"(({end} / {start}) ** (1 / {years}) - 1) * 100",
                               ((end / start) ** (1 / years) - 1) * 100, "%"))
    return out


def describe(label: str, values: list[float], with_growth: bool = False) -> list[Computation]:
    if not values:
        return []
    out = [
        Computation(f"sum of {label}", "sum", math.fsum(values)),
        Computation(f"mean of {label}", "mean", statistics.fmean(values)),
        Computation(f"median of {label}", "median", statistics.median(values)),
        Computation(f"min of {label}", "min", min(values)),
        Computation(f"max of {label}", "max", max(values)),
    ]
    if len(values) >= 2:
        out.append(Computation(f"standard deviation of {label}", "stdev", statistics.stdev(values)))
    if with_growth and len(values) >= 2:
        out += growth(values[0], values[-1])
    return out


def parse_table(text: str) -> dict[str, list[float]]:
    """Numeric columns of the first markdown or CSV table in text: {header: values}."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    rows: list[list[str]] = []
    if sum(line.startswith("|") for line in lines) >= 3:
        for line in lines:
            if line.startswith("|") and not re.fullmatch(r"\|[\s:\-|]+\|?", line):
                rows.append([cell.strip() for cell in line.strip("|").split("|")])
    else:
        candidates = [line for line in lines if line.count(",") >= 1]
        if len(candidates) >= 3:
            rows = list(csv.reader(io.StringIO("\n".join(candidates))))
    if len(rows) < 3:
        return {}
    header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    columns: dict[str, list[float]] = {}
    for index, name in enumerate(header):
        if LABEL_COLUMN_RE.search(name):
            continue  # years and dates label the rows; their sum means nothing
        try:
            columns[name or f"column {index + 1}"] = [
                parse_number(row[index].rstrip("%")) for row in body
            ]
        except ValueError:
            continue
    return columns


def compute(text: str) -> list[Computation]:
    """Every computation the request asks for, or implies, from the figures in text."""
    results: list[Computation] = []
    lowered = text.lower()

    years_match = YEARS_RE.search(text)
    years = float(next(g for g in years_match.groups() if g)) if years_match else None
    for m in FROM_TO_RE.finditer(text):
        results += growth(parse_number(m.group(1), m.group(2)), parse_number(m.group(3), m.group(4)), years)

    for m in PERCENT_OF_RE.finditer(text):
        pct, whole = parse_number(m.group(1)), parse_number(m.group(2))
        results.append(Computation(f"{format_number(pct)}% of {format_number(whole)}",
                                   f"{pct} / 100 * {whole}", pct / 100 * whole))
    for m in WHAT_PERCENT_RE.finditer(text):
        part, whole = parse_number(m.group(1)), parse_number(m.group(2))
        if whole:
            results.append(Computation(f"{format_number(part)} as a share of {format_number(whole)}",
                                       f"{part} / {whole} * 100", part / whole * 100, "%"))

    for name, values in parse_table(text).items():
        results += describe(name, values, with_growth=True)

    for m in EXPRESSION_RE.finditer(text):
        expression = m.group(0).strip().replace(",", "")
        if re.fullmatch(r"[\d.\s-]+", expression) or "%" in expression:
            continue  # dates, ranges and phone numbers are not arithmetic
        try:
            results.append(Computation(expression, expression, safe_eval(expression)))
        except (UnsafeExpression, SyntaxError):
            continue

    if not results and any(w in lowered for w in ("average", "mean", "median", "sum", "total", "statistic")):
        values = numbers_in(text)
        if len(values) >= 2:
            results += describe("the figures", values)
    return results
