"""Readers of parts of a whole: shares, margins, markups, churn and savings rates, chained percentages
and fractions."""

from __future__ import annotations

import re

from agents.calculator import format_number, safe_eval
from agents.everyday.common import _quantities, _same, add, amounts, cue, money, numbers, percents
from agents.everyday.money import DOWN, UP
from agents.word_problems import Analysis, Text, compiled, shown

# --- shares, margins, markups, churn and savings rates ---------------------------------------------
SHARE_ASK = cue(r"\b(percent\w*|%|share|proportion|rate|margin|markup|mark-up|fraction|portion|churn)\b")
MARGIN = cue(r"\bmargin\b")
MARKUP = cue(r"\bmark-?up\b")
COST = cue(r"\b(costs?|expenses?|spend|spent|buy|bought|paid|cogs|cost of (?:goods|sales))\b")
PROFIT = cue(r"\b(?:profit|earnings|net income)s?\s+(?:is|was|were|of|came to|:|[$€£\d])")  # a profit given
CHANGE_WORDS = cue(
    r"\b(from .* to|grew|grow|rose|rise|risen|went up|went down|increas\w*|decreas\w*|growth|chang\w*|"
    r"gain\w*|fell|fall|drop\w*|declin\w*|jump\w*|climb\w*)\b"
)
SHARE_OF = cue(r"\b(of|out of|churn|rate|margin|mark-?up|share|proportion|fraction|portion)\b")


def shares(text: Text, out: Analysis) -> bool:
    value = text.value
    if not SHARE_ASK.search(value) or not SHARE_OF.search(value) or CHANGE_WORDS.search(value):
        return False
    found = [money(m, value) for m in numbers(value)]
    if len(found) != 2 or any(m.percent for m in found):
        return False
    quantities = {m.end: unit for m, unit in _quantities(value)}
    a, b = found
    fa, fb = 1.0, 1.0
    if a.end in quantities and b.end in quantities:
        factor = _same(quantities[a.end], quantities[b.end])
        if factor is None:
            return False
        fa = factor
    elif (
        per_period := re.search(r"\b(every|each|per|an?)\s+(hour|minute|day|week|month|year)\b", value, re.IGNORECASE)
    ) and a.end in quantities:
        unit = per_period.group(2)
        factor = _same(quantities[a.end], unit)
        if factor is None:
            return False
        return _share(out, a.value * factor, 1.0, f"{shown(a)} {quantities[a.end]} of each {unit}", [a.value])
    a_value, b_value = a.value * fa, b.value * fb
    if MARKUP.search(value) and COST.search(value):
        cost, price = sorted((a_value, b_value))
        return _share(
            out,
            price - cost,
            cost,
            f"markup from {format_number(cost)} to {format_number(price)}",
            [cost, price],
            f"({price} - {cost}) / {cost} * 100",
            "markup",
        )
    if MARGIN.search(value) and COST.search(value) and not PROFIT.search(value):
        cost, revenue = sorted((a_value, b_value))
        return _share(
            out,
            revenue - cost,
            revenue,
            f"margin on {format_number(revenue)} with costs of {format_number(cost)}",
            [cost, revenue],
            f"({revenue} - {cost}) / {revenue} * 100",
            "margin",
        )
    if (MARGIN.search(value) or MARKUP.search(value)) and not PROFIT.search(value):
        return False  # a margin of two figures neither of which reads as a cost or a profit: unclear
    part, whole = sorted((a_value, b_value))
    return _share(out, part, whole, f"{format_number(part)} as a share of {format_number(whole)}", [part, whole])


def _share(
    out: Analysis, part: float, whole: float, label: str, inputs: list[float], expression: str = "", kind: str = "share"
) -> bool:
    if not whole:
        return False
    add(out, label, expression or f"{part} / {whole} * 100", part / whole * 100, inputs, kind, unit="%")
    return True


# --- chained percentages ------------------------------------------------------------------------------
SPAN_AFTER = compiled(r"\s+(?:years?|months?|quarters?|weeks?|days?|steps?|times)\b")
CHAIN_NOUN = compiled(r"\s*(?:sales\s+)?(off|discount|tax|vat|tip|markup|surcharge|increase|decrease|rise|drop|cut)\b")
CHAIN = cue(
    r"\b(then|another|further|followed by|after that|on top|combined|cumulative|overall|compounded|in total|net|"
    r"the next|the following|total (?:increase|change|growth|rise|decrease)|"
    r"and (?:then )?(?:dropped|fell|grew|rose|gained|lost))\b"
)


def chained_percentages(text: Text, out: Analysis) -> bool:
    value = text.value
    found = [money(m, value) for m in numbers(value)]
    pcts, rest = percents(found), amounts(found)
    spans = [m for m in rest if SPAN_AFTER.match(value, m.end)]  # "over the 2 years": one per percentage
    if any(m.value != len(pcts) for m in spans):
        return False
    rest = [m for m in rest if m not in spans]
    if len(pcts) < 2 or len(rest) > 1 or not CHAIN.search(value):
        return False
    out.labels.extend(m.value for m in spans)
    factors, steps = [], []
    previous_up = None
    for n, pct in enumerate(pcts):
        start = pcts[n - 1].end if n else 0
        after = CHAIN_NOUN.match(value, pct.end)
        window = after.group(0) if after else value[start : pct.start]
        up, down = bool(UP.search(window)), bool(DOWN.search(window))
        if up == down:
            if re.search(r"\b(another|further|again|and|then)\b", window, re.IGNORECASE) and previous_up is not None:
                up = previous_up
            else:
                return False
        previous_up = up
        factors.append(f"(1 {'+' if up else '-'} {pct.value} / 100)")
        steps.append(f"{'+' if up else '-'}{shown(pct)}")
    expression = " * ".join(factors)
    factor = safe_eval(expression)
    inputs = [p.value for p in pcts]
    if rest:
        base = rest[0]
        add(
            out,
            f"{shown(base)} after {', then '.join(steps)}",
            f"{base.value} * {expression}",
            base.value * factor,
            [base.value, *inputs],
            "chain",
            base.currency,
        )
    else:
        change = (factor - 1) * 100
        add(
            out,
            f"the net change after {', then '.join(steps)}",
            f"({expression} - 1) * 100",
            abs(change),
            inputs,
            "chain",
            unit="%",
            note=f"({'an increase' if change >= 0 else 'a decrease'})",
        )
    return True


# --- fractions, products, what is left, and a change between two stated figures ------------------
FRACTION_WORDS = {
    "half": 0.5,
    "a half": 0.5,
    "one half": 0.5,
    "a third": 1 / 3,
    "one third": 1 / 3,
    "a quarter": 0.25,
    "one quarter": 0.25,
    "2 thirds": 2 / 3,
    "two thirds": 2 / 3,
    "3 quarters": 0.75,
    "three quarters": 0.75,
}
FRACTION_OF = compiled(r"\b(\d+)\s*/\s*(\d+)\s+of\b|\b(" + "|".join(FRACTION_WORDS) + r")\s+of\b")
FRACTION_AS_PERCENT = compiled(r"\b(\d+)\s*/\s*(\d+)\s+(?:as|in|to)\s+(?:an?\s+)?(?:percent\w*|%)")


def fractions(text: Text, out: Analysis) -> bool:
    value = text.value
    found = [money(m, value) for m in numbers(value)]
    if match := FRACTION_AS_PERCENT.search(value):
        a, b = float(match.group(1)), float(match.group(2))
        if len(found) == 2 and b:
            add(
                out,
                f"{match.group(1)}/{match.group(2)} as a percentage",
                f"{a} / {b} * 100",
                a / b * 100,
                [a, b],
                "share",
                unit="%",
            )
            return True
        return False
    match = FRACTION_OF.search(value)
    if not match:
        return False
    whole = [m for m in found if m.start >= match.end()]
    own = [m for m in found if match.start() <= m.end <= match.end()]  # "2 thirds of": the fraction's own
    found = [m for m in found if m not in own]
    if len(whole) != 1 or len(found) != 1:
        return False
    if match.group(1):
        a, b = float(match.group(1)), float(match.group(2))
        if not b:
            return False
        fraction, said, inputs = a / b, f"{match.group(1)}/{match.group(2)}", [a, b]
    else:
        fraction, said, inputs = FRACTION_WORDS[match.group(3).lower()], match.group(3).lower(), []
        out.labels.extend(m.value for m in own)
    amount = whole[0]
    add(
        out,
        f"{said} of {shown(amount)}",
        f"{fraction!r} * {amount.value}",
        fraction * amount.value,
        [*inputs, amount.value],
        "share",
        amount.currency,
    )
    return True
