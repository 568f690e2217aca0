"""Computations a capable model states, evaluated by the calculator: the model says what to compute and
where each input comes from; it never does the arithmetic.

Each stated computation is checked before it is evaluated: every input must appear in the text it
is said to come from (the request, the history, a passage) or be an earlier result; every number in
the expression must be one of those inputs (or a constant of the calendar or of percentages); and a
label may show no number the inputs do not hold. One that fails is refused with its reason, so an
invented input never becomes a figure. Unit conversions go through the same units library as the
rules (units.py). `evaluate_stated` runs in the calculation process (calculation_process.py), under
its time and memory budget.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Literal

from agents.calculator import Computation, Refusal, Refused, safe_eval
from agents.numbers import CURRENCY, mentions, words_to_digits
from agents.units import convert_temperature, find_unit, temperature
from agents.word_problems import Analysis

Origin = Literal["request", "history", "passage", "result"]
ORIGINS: tuple[Origin, ...] = ("request", "history", "passage", "result")
MAX_COMPUTATIONS = 8
# Numbers an expression may use that no text states: percentages, halves and the calendar.
CONSTANTS = {0.0, 1.0, 2.0, 100.0, 7.0, 12.0, 24.0, 52.0, 60.0, 365.0, 1000.0}
TOLERANCE = 1e-9

STATED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "computations": {
            "type": "array",
            "maxItems": MAX_COMPUTATIONS,
            "items": {
                "type": "object",
                "properties": {
                    "label": {"type": "string", "maxLength": 120},
                    "expression": {"type": "string", "maxLength": 300},
                    "inputs": {
                        "type": "array",
                        "maxItems": 12,
                        "items": {
                            "type": "object",
                            "properties": {
                                "value": {"type": "number"},
                                "origin": {"type": "string", "enum": list(ORIGINS)},
                            },
                            "required": ["value", "origin"],
                            "additionalProperties": False,
                        },
                    },
                    "unit": {"type": "string", "maxLength": 20},
                    "convert_from": {"type": "string", "maxLength": 30},
                    "convert_to": {"type": "string", "maxLength": 30},
                },
                "required": ["label", "expression", "inputs", "unit", "convert_from", "convert_to"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["computations"],
    "additionalProperties": False,
}
STATED_PROMPT = (
    "You are the analyst of a team. State the computations the request needs, as JSON; do not compute "
    "them: a calculator evaluates each expression. For each: a short label in the user's terms; an "
    "arithmetic expression over numbers (+ - * / ** and sqrt, log, exp, round, abs, min, max), writing a "
    "percentage p as p/100; each number it uses as an input, with its origin: 'request', 'history' (an "
    "earlier turn), 'passage' (a finding below) or 'result' (an earlier computation's value); the unit of "
    "the result ('%', '$', ' km' or empty); and, for a unit conversion, convert_from and convert_to (the "
    "expression is then the quantity to convert). Use no number that is not given. When nothing needs "
    "computing, return an empty list."
)


@dataclass
class Sources:
    """The texts a stated input may come from, and the numbers each holds (read once, not per input)."""

    request: str
    history: list[str]
    passages: list[str]
    found: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        texts = {"request": [self.request], "history": self.history, "passage": self.passages}
        for origin, held in texts.items():
            self.found[origin] = [
                n
                for text in held
                for m in mentions(words_to_digits(text))
                for n in [abs(m.value), abs(m.raw)] + ([abs(m.value) / 100] if m.percent else [])
            ]
        self.found["anywhere"] = [n for numbers in list(self.found.values()) for n in numbers]

    def numbers(self, origin: str) -> list[float]:
        return self.found.get(origin, [])


def evaluate_stated(stated: list[dict[str, Any]], request: str, history: list[str], passages: list[str]) -> Analysis:
    """The model's stated computations, checked and evaluated, in order (a later one may use an earlier
    one's result). Runs in the calculation process."""
    sources = Sources(request, history, passages)
    analysis = Analysis()
    results: list[float] = []
    for item in stated[:MAX_COMPUTATIONS]:
        try:
            analysis.computations.append(_evaluated(item, sources, results))
            results.append(abs(analysis.computations[-1].value))
        except Refused as refused:
            analysis.refusals.append(Refusal(_short(str(item.get("expression", ""))), str(refused)))
    return analysis


def _evaluated(item: dict[str, Any], sources: Sources, results: list[float]) -> Computation:
    expression = str(item.get("expression", "")).strip()
    label = " ".join(str(item.get("label", "")).split()) or expression
    given: list[float] = []
    for stated_input in item.get("inputs") or []:
        value = abs(float(stated_input.get("value", 0)))
        origin = stated_input.get("origin", "request")
        found = results if origin == "result" else sources.numbers(origin)
        if not _among(value, found) and not _among(value, _anywhere(sources, results)):
            raise Refused(f"its input {_shown(value)} appears nowhere in the request, the history or the findings")
        given.append(value)
    for number in _literals(expression):
        if not _among(number, given) and number not in CONSTANTS and not _among(number, results):
            raise Refused(f"it uses {_shown(number)}, which is not one of its stated inputs")
    for m in mentions(label):
        if not _among(abs(m.value), [*given, *results]) and not _among(abs(m.value), _anywhere(sources, results)):
            raise Refused(f"its label states {m.text.strip()}, which appears nowhere in the request or the findings")
    value = safe_eval(expression)
    unit = str(item.get("unit", "")).strip()
    source, target = str(item.get("convert_from", "")).strip(), str(item.get("convert_to", "")).strip()
    if source or target:
        value, unit = _converted(value, source, target)
    currency = unit if unit in CURRENCY and unit else ""
    shown_unit = "" if currency else unit
    if shown_unit and shown_unit != "%" and not shown_unit.startswith(" "):
        shown_unit = " " + shown_unit
    return Computation(
        label=label, expression=expression, value=value, unit=shown_unit, currency=currency, inputs=given, kind="stated"
    )


def _converted(value: float, source: str, target: str) -> tuple[float, str]:
    """A quantity in `source` units, in `target` units, through the units library the rules use."""
    if (hot := temperature(source)) and (cold := temperature(target)):
        return convert_temperature(value, hot, cold), f" {target}"
    known, wanted = find_unit(source), find_unit(target)
    if known is None or wanted is None:
        raise Refused(f"the calculator does not know the unit {source if known is None else target!r}")
    if known.dimension != wanted.dimension:
        raise Refused(f"{known.name} cannot be converted to {wanted.name}")
    return value * known.factor / wanted.factor, f" {wanted.name}"


def _anywhere(sources: Sources, results: list[float]) -> list[float]:
    return [*results, *sources.numbers("anywhere")]


def _literals(expression: str) -> list[float]:
    try:
        tree = ast.parse(expression.replace("^", "**").replace("×", "*").replace("÷", "/"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise Refused("it is not an arithmetic expression") from error
    return [
        abs(float(node.value))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool)
    ]


def _among(value: float, found: list[float]) -> bool:
    return any(abs(value - other) <= TOLERANCE * max(1.0, abs(other)) for other in found)


def _shown(value: float) -> str:
    return f"{value:g}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."
