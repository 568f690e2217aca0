"""What every everyday reader shares: the request's numbers (less the years that label them), money,
quantities with units, and how a reading adds a figure."""

from __future__ import annotations

import re

from agents import units
from agents.calculator import Computation
from agents.numbers import Mention, mentions
from agents.word_problems import Analysis, compiled

YEAR = re.compile(r"^(?:19|20)\d\d$")


def numbers(text: str) -> list[Mention]:
    """The request's numbers, less the years that label them ("in 2023")."""
    return [m for m in mentions(text) if not is_year(m, text)]


def is_year(m: Mention, text: str) -> bool:
    if m.currency or m.percent or m.value != m.raw or not YEAR.match(m.text.strip()):
        return False
    before = text[: m.start].rstrip().lower()
    return not re.search(r"[-+*/×x]$|\b(of|times|by|plus|minus)$", before)


def amounts(found: list[Mention]) -> list[Mention]:
    return [m for m in found if not m.percent]


def percents(found: list[Mention]) -> list[Mention]:
    return [m for m in found if m.percent]


def money(m: Mention, text: str) -> Mention:
    """A number followed by "dollars" or "cents" is money too."""
    after = text[m.end : m.end + 10].lower()
    if not m.currency and re.match(r"\s*(dollars?|bucks|usd)\b", after):
        return Mention(m.value, m.raw, False, "$", m.start, m.end, f"${m.text}")
    if not m.currency and re.match(r"\s*cents?\b", after):
        return Mention(m.value / 100, m.raw / 100, False, "$", m.start, m.end, f"{m.text} cents")
    return m


def cue(pattern: str) -> re.Pattern[str]:
    return compiled(pattern)


def add(
    out: Analysis,
    label: str,
    expression: str,
    value: float,
    inputs: list[float],
    kind: str,
    currency: str = "",
    unit: str = "",
    note: str = "",
) -> None:
    out.computations.append(
        Computation(label, expression, value, unit=unit, currency=currency, inputs=inputs, note=note, kind=kind)
    )


# --- quantities with units, and what one is per another -------------------------------------------
QUANTITY = compiled(
    rf"(\d[\d,]*(?:\.\d+)?|\.\d+)[\s-]*({units.UNIT_PATTERN}|kwh|gallons?|cans?|bottles?|"
    r"eggs?|items?|units?|pieces?|cookies?|slices?|tickets?|boxes?)(?![a-z])"
)
SCALE_OF_ASK = compiled(r"\bper\s+(\d+)\s+[a-z]")


def _quantities(value: str) -> list[tuple[Mention, str]]:
    scale = {match.end(1) for match in SCALE_OF_ASK.finditer(value)}  # "litres per 100 km" asks, not gives
    found = {m.end: m for m in numbers(value) if m.end not in scale}
    out = []
    for match in QUANTITY.finditer(value):
        m = found.get(match.end(1))
        if m and not m.percent and not m.currency:
            out.append((m, match.group(2).lower()))
    return out


def _same(a: str, b: str) -> float | None:
    """How many of unit b one unit a holds: km, m -> 1000; cans, can -> 1."""
    ua, ub = units.find_unit(a), units.find_unit(b)
    if ua and ub and ua.dimension == ub.dimension:
        return ua.factor / ub.factor
    return 1.0 if a.rstrip("s") == b.rstrip("s") else None


def money_value(written: str) -> float:
    return float(re.sub(r"[^\d.]", "", written))


def two_amounts(value: str) -> list[Mention]:
    """The request's two plain amounts (no percentage), or none when it has another count of numbers."""
    found = [money(m, value) for m in numbers(value)]
    return found if len(found) == 2 and not any(m.percent for m in found) else []
