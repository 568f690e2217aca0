"""The analyst's reading of a request: figures only from a reading that accounts for the request.

A reading is used only when every number the user wrote is one of its operands or is explained (a
year that labels a figure), and when it computes the kind of figure the question asks for (a tip,
a payment, a wage, the figure before a change...). Anything else is declined, with what could not
be read and a wording that can be: a wrong figure stated as computed is the worst answer there is.
"""

from __future__ import annotations

import re
from dataclasses import replace

from agents import everyday
from agents.numbers import Mention, mentions
from agents.word_problems import RECOGNISERS, Analysis, _listing, analyse, follow_up, normalise, shown

READERS = [everyday.read_everyday, *RECOGNISERS]  # the whole-request readers first

# A question that names one of these kinds is answered only by a reading of that kind.
KINDS: list[tuple[re.Pattern[str], set[str], str]] = [
    (everyday.TIP_ASKED, {"tip"}, "a tip"),
    (everyday.LOAN, {"payment", "interest"}, "a loan payment"),
    (
        re.compile(r"\bpercentage points?\b|\bhow many points\b", re.IGNORECASE),
        {"points"},
        "a change in percentage points",
    ),
    (everyday.MARKUP, {"markup"}, "a markup"),
    (
        re.compile(
            r"\bhow much (?:do|will|would|can|could|did) (?:i|we|you) save|what(?:'s| is) the discount\b", re.IGNORECASE
        ),
        {"discount"},
        "the amount saved",
    ),
    (
        re.compile(
            r"\b(per person|per head|each person|each of us|everyone (?:owe|pay)s?|each (?:owe|pay)s?)\b", re.IGNORECASE
        ),
        {"split", "unit_rate"},
        "a share per person",
    ),
    (re.compile(r"\bmargin\b", re.IGNORECASE), {"margin", "share"}, "a margin"),
]
ASKS_BEFORE = re.compile(
    r"%.*\b(before|original(?:ly)?|old|previous|full price|pre-?tax)\b|"
    r"\b(before|original(?:ly)?|old|previous|full price)\b.*%",
    re.IGNORECASE | re.DOTALL,
)
PAY_PER_PERIOD = re.compile(
    r"\b(earn\w*|salary|wages?|paid|income|make|makes|making|take-?home|i'?m on)\b", re.IGNORECASE
)
ASKS_FIGURES = re.compile(
    r"\b(how much|how many|how long|how far|calculat\w*|comput\w*|work out|percent\w*|total|average|mean|"
    r"rate|share|margin|convert|per|split|tip|growth|worth|cost|price|pay|left|difference|sum|ratio|proportion|"
    r"doubl\w*|tripl\w*|halv\w*|times|multipl\w*|divid\w*|each)\b|%",
    re.IGNORECASE,
)
PERIOD_TARGET = re.compile(
    r"\b(?:per|an?|each|every)\s+(hour|day|week|month|year)\b|\b(hourly|daily|weekly|"
    r"monthly|yearly|annually)\b",
    re.IGNORECASE,
)
ADD_TO_LIST = re.compile(
    r"^\s*(?:and\s+)?(?:add|include|with|plus)\s+(.+?)\s*(?:to (?:the|that) list)?\s*[?.!]*$", re.IGNORECASE
)
OPERATION = re.compile(
    r"^\s*(?:and\s+|then\s+|now\s+)?(times|multiplied by|x|divided by|minus|less|subtract)\s+"
    r"(\d[\d,]*(?:\.\d+)?)\s*[?.!]*$",
    re.IGNORECASE,
)  # "and times 3?": the last result, worked on
SYMBOLS = {"times": "*", "multiplied by": "*", "x": "*", "divided by": "/", "minus": "-", "less": "-", "subtract": "-"}
CONTINUED = re.compile(r"^\s*(?:and|what about|how about|also|plus)\b.{0,40}$", re.IGNORECASE)
ANNUAL = re.compile(r"\b(annual(?:ly|i[sz]ed)?|a year|per year|each year|yearly|cagr|compound\w*)\b", re.IGNORECASE)
OVER_SPAN = re.compile(r"\b(?:over|in|across|during|within|after)\s+(?:the\s+(?:next|last|past)\s+)?\d", re.IGNORECASE)


def read(text: str) -> Analysis:
    return analyse(label_years(text), READERS)


def label_years(text: str) -> str:
    """Years are labels, not operands: each is blanked out, and two years give an annual rate its span
    ("between 2020 and 2022 ... the annual growth rate": over 2 years)."""
    plain = text
    years = [m for m in mentions(plain) if everyday.is_year(m, plain)]
    for m in reversed(years):
        plain = plain[: m.start] + " " * (m.end - m.start) + plain[m.end :]
    plain = re.sub(
        r"\b(?:in|by|during|for|of|since|until|between|and|to|from|fy)(\s+)(?=[\s,.;:?!]*$|\s{4})",
        lambda m: " " * len(m.group(0)),
        plain,
        flags=re.IGNORECASE | re.MULTILINE,
    )
    if len(years) == 2 and ANNUAL.search(plain) and not OVER_SPAN.search(plain):
        span = abs(years[1].value - years[0].value)
        if span:
            plain = f"{plain.rstrip()} over {span:g} years"
    return plain


def read_request(text: str, earlier: list[str], findings: list[str]) -> Analysis:
    """The request first; a follow-up reads the earlier turns; then the findings."""
    if earlier and earlier[-1] == text:
        earlier = earlier[:-1]  # the history may end with this very request
    found = per_period_asked(text, read(text))
    why = unaccounted(text, found)
    if (found.computations and not why) or (found.refusals and not found.computations):
        return found
    for revised in _follow_ups(text, earlier):
        again = read(revised)
        if again.computations and not unaccounted(revised, again):
            return again
    if findings and not everyday.numbers(normalise(text)):
        return read("\n".join(findings))  # "what is the growth in that table?": the passages' figures
    if asks_for_figures(text):
        return Analysis(unread=why or "I could not tell which calculation it asks for", example=example(text))
    return Analysis()


CALENDAR = {"week": 52.0, "month": 12.0, "year": 1.0}  # how many in a year
PER_PERIOD_KINDS = {"wage", "unit_rate", "growth", "payment", "interest", "product", "scaled"}


FIGURE_TO_PERIOD = re.compile(r"\s*(?:[a-z]+\s*)?", re.IGNORECASE)  # "$17.99 a month", "40 hours a week"


def stated_and_asked_periods(text: str) -> tuple[set[str], set[str]]:
    """The periods written after a figure ("$17.99 a month") and the ones asked for ("per year is that?")."""
    plain = normalise(text)
    ends = [m.end for m in everyday.numbers(plain)]
    stated: set[str] = set()
    asked: set[str] = set()
    for name, pattern in everyday.PERIOD_OF.items():
        for match in pattern.finditer(plain):
            after_figure = any(
                e <= match.start() and FIGURE_TO_PERIOD.fullmatch(plain[e : match.start()]) for e in ends
            )
            (stated if after_figure else asked).add(name)
    return stated, asked


def per_period_asked(text: str, analysis: Analysis) -> Analysis:
    """ "from $15.49 to $17.99 a month. How much more per year?": a change stated per month, asked per year."""
    if len(analysis.computations) != 1 or analysis.computations[0].kind in PER_PERIOD_KINDS:
        return analysis
    stated, asked = stated_and_asked_periods(text)
    asked -= stated
    if len(stated) != 1 or len(asked) != 1 or not (stated | asked) <= set(CALENDAR):
        return analysis
    (source,), (target,) = stated, asked
    c = analysis.computations[0]
    if c.unit == "%":
        return analysis  # a percent is the same per month and per year
    if f"per {target}" in c.label or f"a {target}" in c.label:
        return analysis
    factor = CALENDAR[target] and CALENDAR[source] / CALENDAR[target]
    analysis.computations.append(
        replace(
            c,
            label=f"{c.label}, a {source}, per {target}",
            expression=f"({c.expression}) * {CALENDAR[source]:g} / {CALENDAR[target]:g}",
            value=c.value * factor,
            inputs=[*c.inputs],
            kind="per_period",
            note="(taking 52 weeks and 12 months a year)" if "week" in (source, target) else "",
        )
    )
    return analysis


def unaccounted(text: str, analysis: Analysis) -> str:
    """Why a reading does not account for the request ("" when it does)."""
    if not analysis.computations:
        return ""
    plain = normalise(text)
    inputs = [value for c in analysis.computations for value in c.inputs] + analysis.labels
    left = [m for m in everyday.numbers(plain) if not any(_same_number(m, value) for value in inputs)]
    if left:
        return f"I could not tell what {_listing([shown(m) for m in left])} {'stands' if len(left) == 1 else 'stand'} for in it"
    kinds = {c.kind for c in analysis.computations}
    asked = [(wanted, name) for cue, wanted, name in KINDS if cue.search(plain)]
    if asked and not any(kinds & wanted for wanted, _ in asked):  # "mortgage rate ... percentage points": either
        return f"it asks for {asked[0][1]}, which I could not work out from its wording"
    stated, asked_periods = stated_and_asked_periods(text)
    unanswered = {p for p in asked_periods - stated if not any(p in c.label for c in analysis.computations)}
    if (
        stated
        and unanswered
        and not kinds & (PER_PERIOD_KINDS | {"per_period"})
        and any(c.unit != "%" for c in analysis.computations)
    ):
        return f"it asks for a figure per {min(unanswered)}, which I could not work out from its wording"
    if ASKS_BEFORE.search(plain) and "reverse" not in kinds:
        return "it asks for the figure before a change, which I could not work out from its wording"
    if (
        PAY_PER_PERIOD.search(plain)
        and "wage" not in kinds
        and any(c.label.endswith(_RATE_LABELS) for c in analysis.computations)
    ):
        return "pay is counted in working time, and I could not tell which from its wording"
    if not PAY_PER_PERIOD.search(plain) and any(
        c.currency and c.label.endswith(_HOURLY) for c in analysis.computations
    ):
        return "money per hour or per day depends on whether it counts working time or all hours"
    return ""


_HOURLY = ("as a rate per hour", "as a rate per day", "as a rate per minute", "as a rate per second")
_RATE_LABELS = tuple(f"as a rate per {p}" for p in ("second", "minute", "hour", "day", "week", "month", "year"))


def _same_number(m: Mention, value: float) -> bool:
    return any(
        abs(abs(value) - abs(written)) <= 1e-9 * max(1.0, abs(written))  # "shrinks 5%" is a rate of -5
        for written in (m.value, m.raw, m.value / 100)
    )


def asks_for_figures(text: str) -> bool:
    """Figures asked for from numbers given (a year counts: "worth in 2030?" is asked, and not answerable)."""
    return bool(mentions(normalise(text))) and bool(ASKS_FIGURES.search(text))


def _follow_ups(text: str, earlier: list[str]) -> list[str]:
    """The readings of a follow-up: the earlier request revised by it, or continued by it."""
    if not earlier:
        return []
    previous = earlier[-1]
    revised = []
    people = everyday.PEOPLE.search(normalise(text))
    if people and len(everyday.numbers(normalise(text))) == 1 and not everyday.PEOPLE.search(normalise(previous)):
        count = next(g for g in people.groups() if g)  # "and for 4 people?": the same bill, split
        revised.append(f"{previous.rstrip(' ?.!')}, split between {count} people?")
    operation = OPERATION.match(text)
    if operation:
        last = read(previous).computations
        if len(last) == 1:
            number = operation.group(2).replace(",", "")
            revised.append(f"({last[0].expression}) {SYMBOLS[operation.group(1).lower()]} {number}")
    else:
        revised.append(follow_up(text, earlier, read))
    target = PERIOD_TARGET.search(text)
    old = next(reversed([*PERIOD_TARGET.finditer(previous)]), None)
    if target and old and not everyday.numbers(normalise(text)):  # "and per week?"
        revised.append(previous[: old.start()] + target.group(0) + previous[old.end() :])
    extra = ADD_TO_LIST.match(text)
    if extra and read(previous).computations:  # "add 40 to the list"
        revised.append(f"{previous.rstrip(' ?.!')}, and {extra.group(1)}?")
    if CONTINUED.match(text) and not everyday.numbers(normalise(text)) and read(previous).computations:
        revised.append(f"{previous.rstrip(' ?.!')}, {text[:1].lower()}{text[1:]}")  # "and the total?"
    if not read(previous).computations:
        revised.append(
            f"{previous.rstrip(' ?.!')}, {text[:1].lower()}{text[1:]}"
        )  # "We have $8,000." + "If it grows 6% a year...?"
    return [r for r in revised if r]


def example(text: str) -> str:
    """A wording of the request that can be read, in the user's own numbers where it has them."""
    found = everyday.numbers(normalise(text))
    pcts = [shown(m) for m in found if m.percent]
    amounts = [shown(m) for m in found if not m.percent]
    if pcts and amounts:
        return f"“What is {pcts[0]} of {amounts[0]}?” or “{amounts[0]} plus {pcts[0]}”"
    if len(amounts) >= 2:
        return f"“What is the change from {amounts[0]} to {amounts[1]}?” or “{amounts[0]} divided by {amounts[1]}”"
    if amounts:
        return f"“Convert {amounts[0]} miles to km” or “{amounts[0]} per month over a year”"
    return "“What is X% of Y?” or “Convert X miles to km”"
