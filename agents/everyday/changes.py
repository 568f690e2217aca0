"""Readers of change: between two stated figures, one figure against another ("how much more is $95
than $76?"), a figure doubled or halved, and growth or decline per period in any word order."""

from __future__ import annotations

import re

from agents.calculator import format_number
from agents.everyday.common import add, amounts, cue, money, numbers, percents, two_amounts
from agents.everyday.money import LOAN
from agents.word_problems import NUM as NUM_TEXT
from agents.word_problems import Analysis, Text, compiled, shown

CHANGE_CUE = cue(r"\b(increase|decrease|growth|grow|grew|gain|rise|rose|fall|fell|drop\w*|change|decline|return|roi)\b")
PERCENT_ASKED = cue(r"%|\b(percent\w*|per cent|rate|relative|growth|return|roi)\b")


def change_between_figures(text: Text, out: Analysis) -> bool:
    """ "Sales were 4,000 units in 2021 and 5,000 units in 2022: the increase?": the earlier one first."""
    value = text.value
    found = two_amounts(value)
    if not found or not CHANGE_CUE.search(value):
        return False
    if re.search(r"\bfrom\b[^.?!]*\bto\b", value, re.IGNORECASE) or re.search(
        r"\b(over|for|in|after)\s+\d", value, re.IGNORECASE
    ):
        return False  # "from a to b" and "over n years" are read by the change and growth readers
    a, b = found
    currency = a.currency or b.currency
    if PERCENT_ASKED.search(value):
        if not a.value:
            return False
        change = (b.value - a.value) / a.value * 100
        add(
            out,
            f"change from {shown(a)} to {shown(b)}",
            f"({b.value} - {a.value}) / {a.value} * 100",
            abs(change),
            [a.value, b.value],
            "change",
            unit="%",
            note=f"({'an increase' if change >= 0 else 'a decrease'})",
        )
    else:
        change = b.value - a.value
        add(
            out,
            f"change from {shown(a)} to {shown(b)}",
            f"{b.value} - {a.value}",
            abs(change),
            [a.value, b.value],
            "change",
            currency,
            note=f"({'an increase' if change >= 0 else 'a decrease'})",
        )
    return True


MORE_OR_LESS = (
    r"(more|less|bigger|smaller|higher|lower|larger|greater|cheaper|dearer|pricier|heavier|lighter|longer|shorter|"
    r"faster|slower|(?:more|less) expensive)"
)
COMPARED = [  # (pattern, group of the figure compared, of the one it is compared with, of the comparative)
    (
        compiled(
            rf"\bhow much\s+{MORE_OR_LESS}\s+(?:\w+\s+)?(?:is|are|was|were|does|do)\s+(?:it\s+)?({NUM_TEXT})"
            rf"(?:\s+\w+)?\s+than\s+({NUM_TEXT})"
        ),
        2,
        3,
        1,
    ),
    (
        compiled(
            rf"\b(?:what|which)\s+(?:percent(?:age)?|%)\s+{MORE_OR_LESS}\s+(?:is|are|was|were)\s+({NUM_TEXT})"
            rf"(?:\s+\w+)?\s+than\s+({NUM_TEXT})"
        ),
        2,
        3,
        1,
    ),
    (
        compiled(
            rf"\bby\s+(?:how much|what percent(?:age)?|how many percent)\s+(?:is|are|was|were)\s+({NUM_TEXT})"
            rf"(?:\s+\w+)?\s+{MORE_OR_LESS}\s+than\s+({NUM_TEXT})"
        ),
        1,
        3,
        2,
    ),
    (
        compiled(
            rf"({NUM_TEXT})(?:\s+\w+)?\s+(?:is|are|was|were)\s+(?:how much|what percent(?:age)?|how many percent)\s+"
            rf"{MORE_OR_LESS}\s+than\s+({NUM_TEXT})"
        ),
        1,
        3,
        2,
    ),
]
SMALLER = ("less", "smaller", "lower", "cheaper", "lighter", "shorter", "slower", "less expensive")


def comparison(text: Text, out: Analysis) -> bool:
    """ "How much more is $95 than $76, in percent?": measured against the figure after "than"."""
    value = text.value
    found = two_amounts(value)
    if not found:
        return False
    for pattern, first, second, way in COMPARED:
        match = pattern.search(value)
        if not match:
            continue
        a, b = (
            next(m for m in found if m.end == match.end(g)) if any(m.end == match.end(g) for m in found) else None
            for g in (first, second)
        )
        if a is None or b is None or (a.value < b.value) != match.group(way).lower().startswith(SMALLER):
            return False  # "how much more is 5 than 9": the wording and the figures disagree
        currency = a.currency or b.currency
        if PERCENT_ASKED.search(value) or "percent" in match.group(0).lower():
            if not b.value:
                return False
            add(
                out,
                f"{shown(a)} against {shown(b)}, in percent",
                f"abs({a.value} - {b.value}) / {b.value} * 100",
                abs(a.value - b.value) / b.value * 100,
                [a.value, b.value],
                "change",
                unit="%",
                note=f"({shown(a)} is {'less' if a.value < b.value else 'more'} than {shown(b)})",
            )
        else:
            add(
                out,
                f"difference between {shown(a)} and {shown(b)}",
                f"abs({a.value} - {b.value})",
                abs(a.value - b.value),
                [a.value, b.value],
                "difference",
                currency,
            )
        return True
    return False


MULTIPLES = {
    "double": 2.0,
    "doubles": 2.0,
    "doubled": 2.0,
    "triple": 3.0,
    "triples": 3.0,
    "tripled": 3.0,
    "quadruple": 4.0,
    "quadruples": 4.0,
    "quadrupled": 4.0,
    "halve": 0.5,
    "halves": 0.5,
    "halved": 0.5,
    "is cut in half": 0.5,
    "were cut in half": 0.5,
    "was cut in half": 0.5,
    "drops by half": 0.5,
}
MULTIPLE = compiled(r"\b(" + "|".join(sorted(MULTIPLES, key=len, reverse=True)) + r")\b")


def multiples(text: Text, out: Analysis) -> bool:
    """ "If my $1,800 rent doubles, what is it?": one amount, doubled, tripled or halved."""
    value = text.value
    found = [money(m, value) for m in numbers(value)]
    word = MULTIPLE.search(value)
    if (
        not word
        or len(found) != 1
        or found[0].percent
        or re.search(r"\b(how long|when|years? to|time to)\b", value, re.IGNORECASE)
    ):
        return False  # "how long until it doubles" asks for a time
    amount, factor = found[0], MULTIPLES[word.group(1).lower()]
    done = {0.5: "halved", 2.0: "doubled", 3.0: "tripled", 4.0: "quadrupled"}[
        factor
    ]  # no figure the user did not write
    add(
        out,
        f"{shown(amount)} {done}",
        f"{amount.value} * {factor:g}",
        amount.value * factor,
        [amount.value],
        "multiple",
        amount.currency,
    )
    return True


# --- growth or decline per period, whatever the order of its parts --------------------------------
PER_PERIOD = cue(
    r"\b(?:a|per|each|every)\s+(year|month|quarter|week|day)\b|\b(annual(?:ly)?|yearly|monthly|quarterly)\b"
)
SPAN_OF = compiled(r"\b(?:in|after|over|for|within)\s+(\d+(?:\.\d+)?)\s+(years?|months?|quarters?|weeks?|days?)\b")
GROWS = cue(
    r"\b(grow\w*|grew|rise\w*|rising|increas\w*|gain\w*|earn\w*|interest|invest\w*|return\w*|appreciat\w*|"
    r"deposit\w*|sav(e|es|ing|ings))\b"
)
SHRINKS = cue(r"\b(shrink\w*|los(e|es|ing)|fall\w*|declin\w*|depreciat\w*|drop\w*|decreas\w*)\b")
INFLATION = cue(r"\binflation\b")
REAL_VALUE = cue(r"\b(today'?s (?:money|dollars|terms|prices)|real terms|purchasing power|worth in real|in real)\b")
INTEREST_ASKED = cue(r"\bhow much (?:interest|will i earn|do i earn|will it earn|is earned|gain)")
PERIOD_NAMES = {"annual": "year", "annually": "year", "yearly": "year", "monthly": "month", "quarterly": "quarter"}


def growth_by_roles(text: Text, out: Analysis) -> bool:
    """ "A car loses 15% of its value each year. It's worth $20,000 now. What in 3 years?": an amount, a rate
    per period and a number of periods, in any order."""
    value = text.value
    if re.search(r"\b(simple interest|compounded)\b", value, re.IGNORECASE) or LOAN.search(value):
        return False
    per, span = PER_PERIOD.search(value), SPAN_OF.search(value)
    found = [money(m, value) for m in numbers(value)]
    pcts = percents(found)
    rest = [m for m in amounts(found) if not (span and m.end == span.end(1))]
    if not per or not span or len(pcts) != 1 or len(rest) != 1 or len(found) != 3:
        return False
    period = PERIOD_NAMES.get((per.group(2) or "").lower(), (per.group(1) or "").lower())
    if span.group(2).lower().rstrip("s") != period:
        return False  # a rate a year over months: left to the readers that convert
    up, down = bool(GROWS.search(value)), bool(SHRINKS.search(value))
    if INFLATION.search(value) and not (up or down):
        if REAL_VALUE.search(value):  # "what will $100 be worth in today's money": deflated
            base, pct, n = rest[0], pcts[0], float(span.group(1))
            add(
                out,
                f"{shown(base)} in today's money after {format_number(n)} {period}s of {shown(pct)} inflation",
                f"{base.value} / (1 + {pct.value} / 100) ** {n}",
                base.value / (1 + pct.value / 100) ** n,
                [base.value, pct.value, n],
                "growth",
                base.currency,
            )
            return True
        up = True  # "what will a $100 basket cost in 10 years?": prices grow with inflation
    if up == down:
        return False
    base, rate, n = rest[0], pcts[0].value * (1 if up else -1), float(span.group(1))
    if not -100 < rate or n > 1000:
        return False
    final = base.value * (1 + rate / 100) ** n
    expression = f"{base.value} * (1 + {rate} / 100) ** {n}"
    way = "growing" if up else "falling"
    if INTEREST_ASKED.search(value) and up:
        add(
            out,
            f"interest on {shown(base)} at {shown(pcts[0])} a {period} over {format_number(n)} {period}s",
            f"{expression} - {base.value}",
            final - base.value,
            [base.value, pcts[0].value, n],
            "growth",
            base.currency,
        )
        return True
    add(
        out,
        f"{shown(base)} {way} {shown(pcts[0])} a {period} for {format_number(n)} {period}s",
        expression,
        final,
        [base.value, pcts[0].value, n],
        "growth",
        base.currency,
    )
    return True
