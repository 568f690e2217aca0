"""Everyday arithmetic in words, turned into computations the calculator evaluates.

`analyse(text)` reads a request the way a person would ("Convert 3.5 hours into minutes", "$40 per
month over 18 months", "what percent of 80 is 20?") and returns exactly the figures asked for, each
with its expression and inputs. Recognisers run in order of specificity; the span a recogniser
uses is masked, so that one figure is not computed twice by two readings of the same words.
Only what is asked is computed: a stray extra figure is a number the user did not ask for.
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from agents import units
from agents.calculator import Computation, Refusal, Refused, format_number, safe_eval
from agents.numbers import CURRENCY, Mention, mentions, words_to_digits

MAX_TEXT_CHARS = 20_000
MAX_NUMBER_DIGITS = 40
LONG_NUMBER = re.compile(rf"\d[\d,.]{{{MAX_NUMBER_DIGITS},}}")
NUM = (
    rf"(?:[-−]\s?)?[{CURRENCY}]?\s?(?:\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?%|\s(?:percent|per\s?cent)\b|(?-i:k|K|M|bn)\b|\s(?:thousand|million|billion)\b)?"
)
PCT = (
    rf"[{CURRENCY}]?\s?(?:\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?%|\s(?:percent|per\s?cent)\b)"
)
UNIT = units.UNIT_PATTERN
PERIOD = r"(?:years?|yrs?|months?|quarters?|periods?|weeks?|days?|decades?)"


@dataclass
class Analysis:
    computations: list[Computation] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    labels: list[float] = field(default_factory=list)  # numbers read as labels, not operands (a count)
    unread: str = ""  # why the request could not be read, when it asks for figures (reading.py)
    example: str = ""  # a wording of the same request that can be read

    def __bool__(self) -> bool:
        return bool(self.computations or self.refusals)


class Text:
    """The request being read, with the spans already used masked out."""

    def __init__(self, text: str, spoken: dict[float, str] | None = None, original: str = ""):
        self.value = text
        self.spoken = spoken or {}  # numbers the user wrote in words, as they wrote them
        self.original = original

    def use(self, match: re.Match) -> None:
        start, end = match.span()
        self.value = self.value[:start] + " " * (end - start) + self.value[end:]

    def finditer(self, pattern: re.Pattern) -> list[re.Match]:
        return list(pattern.finditer(self.value))


def num(text: str) -> Mention:
    return mentions(text.strip())[0]


def shown(m: Mention) -> str:
    """A user's number as the answer restates it: 1,000 rather than 1000.0."""
    sign = "-" if m.value < 0 else ""
    body = m.text.lstrip("-− ").lstrip(m.currency).strip()
    if m.percent:
        body = re.sub(r"\s*(%|percent|per\s?cent)$", "", body) + "%"
    return f"{sign}{m.currency}{body}"


def compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


# --- normalising words into symbols -------------------------------------------------------------
OPERATOR_WORDS = [
    (compiled(r"\bsquare root of\s+(" + NUM + ")"), r"sqrt(\1)"),
    (compiled(r"\bcube root of\s+(" + NUM + ")"), r"(\1)^(1/3)"),
    (compiled(r"(\d)\s*(?:squared)\b"), r"\1^2"),
    (compiled(r"(\d)\s*(?:cubed)\b"), r"\1^3"),
    (compiled(r"\b(?:raised\s+)?to\s+the\s+(\d+)(?:st|nd|rd|th)\s+power\b"), r"^ \1"),
    (compiled(r"\b(?:raised\s+)?to\s+the\s+power\s+(?:of\s+)?|\braised\s+to\s+"), "^ "),
    (compiled(r"\bmultiply\s+(" + NUM + r")\s+(?:by|and|with)\s+(" + NUM + ")"), r"\1 * \2"),
    (compiled(r"\bdivide\s+(" + NUM + r")\s+by\s+(" + NUM + ")"), r"\1 / \2"),
    (compiled(r"\bsubtract\s+(" + NUM + r")\s+from\s+(" + NUM + ")"), r"\2 - \1"),
    (compiled(r"\b(?:add|sum)\s+(" + NUM + r")\s+(?:to|and|plus)\s+(" + NUM + r")(?!\s*,|\s+and)"), r"\1 + \2"),
    (compiled(r"\bproduct of\s+(" + NUM + r")\s+and\s+(" + NUM + ")"), r"\1 * \2"),
    (compiled(r"\bquotient of\s+(" + NUM + r")\s+(?:and|by)\s+(" + NUM + ")"), r"\1 / \2"),
    (compiled(r"(\d)\s*(?:multiplied by|times|x|×)\s*(?=[-−(\d$€£])"), r"\1 * "),
    (compiled(r"(\d)\s*(?:divided by|÷)\s*(?=[-−(\d$€£])"), r"\1 / "),
    (compiled(r"([\d%kKM])\s*(?:plus)\s+(?=[-−(\d$€£])"), r"\1 + "),
    (compiled(r"([\d%kKM])\s*(?:minus)\s+(?=[-−(\d$€£])"), r"\1 - "),
]


def normalise(text: str, spoken: dict[float, str] | None = None) -> str:
    text = words_to_digits(text[:MAX_TEXT_CHARS].replace("−", "-").replace("’", "'"), spoken)
    text = re.sub(r"\btwice\b", "2 times", text, flags=re.IGNORECASE)
    for pattern, replacement in OPERATOR_WORDS:
        text = pattern.sub(replacement, text)
    return text


# --- recognisers -----------------------------------------------------------------------------------
Recogniser = Callable[[Text, Analysis], None]
RECOGNISERS: list[Recogniser] = []


def recogniser(function: Recogniser) -> Recogniser:
    RECOGNISERS.append(function)
    return function


CONVERT = compiled(
    rf"(?:convert\s+)?({NUM})\s*({UNIT})\s+(?:(?:is\s+)?how many\s+|(?:in|into|to|as)\s+(?:how many\s+)?)({UNIT})"
)
HOW_MANY_IN = compiled(
    rf"how many\s+({UNIT})\s+(?:are\s+)?(?:there\s+)?(?:in|is|make up|make)\s+(?:a\s+|an\s+)?({NUM})?\s*({UNIT})"
)


@recogniser
def conversions(text: Text, out: Analysis) -> None:
    for m in text.finditer(CONVERT):
        if _convert(num(m.group(1)), m.group(2), m.group(3), out):
            text.use(m)
    for m in text.finditer(HOW_MANY_IN):
        amount = num(m.group(2)) if m.group(2) else mentions("1")[0]
        if _convert(amount, m.group(3), m.group(1), out):
            text.use(m)


def _convert(amount: Mention, source: str, target: str, out: Analysis) -> bool:
    value = amount.value
    hot, cold = units.temperature(source), units.temperature(target)
    if hot and cold and hot != cold:
        result = units.convert_temperature(value, hot, cold)
        out.computations.append(
            Computation(
                f"{format_number(value)}{hot} in {cold}",
                f"convert({value} {hot} -> {cold})",
                result,
                unit=cold,
                inputs=[value],
            )
        )
        return True
    a, b = units.find_unit(source), units.find_unit(target)
    if not a or not b or a.dimension != b.dimension or a is b:
        return False
    label = f"{format_number(value)} {a.name if value != 1 else source} in {b.name}"
    if {a.name, b.name} & units.DECIMAL_DATA:
        label += " (decimal units)"  # 1 GB = 1000 MB; GiB and MiB are the binary ones
    out.computations.append(
        Computation(
            label, f"{value} * {a.factor} / {b.factor}", value * a.factor / b.factor, unit=f" {b.name}", inputs=[value]
        )
    )
    return True


def _percent_of(part: Mention, whole: Mention, label: str, out: Analysis) -> None:
    if whole.value:
        out.computations.append(
            Computation(
                label,
                f"{part.value} / {whole.value} * 100",
                part.value / whole.value * 100,
                unit="%",
                inputs=[part.value, whole.value],
            )
        )


WHAT_PERCENT = [  # (pattern, index of the part, index of the whole)
    (
        compiled(
            rf"what\s+(?:percent(?:age)?|%|share|fraction|proportion)\s+of\s+({NUM})\s+(?:is|are|was|were)\s+({NUM})"
        ),
        2,
        1,
    ),
    (
        compiled(
            rf"what\s+(?:percent(?:age)?|%|share|proportion)\s+(?:is|are|was|were|of)\s+({NUM})\s+(?:of|out of|in|from)\s+({NUM})"
        ),
        1,
        2,
    ),
    (compiled(rf"({NUM})\s+(?:is|are|was|were)\s+what\s+(?:percent(?:age)?|%|share|proportion)\s+of\s+({NUM})"), 1, 2),
    (compiled(rf"({NUM})\s+as\s+an?\s+(?:percent(?:age)?|share|proportion)\s+of\s+({NUM})"), 1, 2),
    (
        compiled(
            rf"({NUM})\s+(?:out of|of)\s+({NUM})\s+(?:as\s+a\s+percent(?:age)?|in\s+percent|(?:is|are)\s+what\s+percent(?:age)?)"
        ),
        1,
        2,
    ),
    (compiled(rf"(?:percent(?:age)?|share|proportion)\s+(?:is|are|of)\s+({NUM})\s+(?:out of|of)\s+({NUM})"), 1, 2),
]
CHANGE_BY_PERCENT = compiled(
    rf"\b(increase|raise|grow|add|mark up|markup|decrease|reduce|lower|cut|discount|drop)(?:s|d|ed|ing)?\s+"
    rf"(?:(?:a|the)\s+\w+\s+of\s+)?({NUM})\s+by\s+({PCT})"
)
NUM_THEN_PERCENT_OFF = compiled(
    rf"({NUM})(?:[^.?!\d%]{{0,40}}?)\b({PCT})\s+(off|discount|cheaper|more expensive|markup)\b"
)
PERCENT_OFF = compiled(
    rf"({PCT})\s+(off|discount on|discount off|more than|less than|increase on|decrease on|on top of|"
    rf"(?:pay\s+)?raise on|(?:pay\s+)?rise on|hike on|increase in|cut in|reduction in|reduction on)\s+"
    rf"(?:(?:my|our|the|a|an|his|her|their|your)\s+)?({NUM})"
)
WITH_PERCENT = compiled(
    rf"({NUM})\s+(?:[a-z]+\s+){{0,2}}?(?:with|after|plus|minus|less|and|\+)\s+(?:an?\s+)?({PCT})\s+(discount|increase|raise|rise|markup|tax|vat|tip|surcharge|reduction|cut|decrease)"
)
AMOUNT_NAMES = r"(tip|tax|vat|gst|commission|fee|deposit|service charge|interest|down ?payment)"
PERCENT_AMOUNT = compiled(
    rf"({PCT})\s+(?:sales\s+|income\s+)?{AMOUNT_NAMES}\s+(?:on|of|for)\s+(?:an?\s+|the\s+)?({NUM})"
)
AMOUNT_AT_PERCENT = compiled(
    rf"\b((?:\w+\s+)?rate|{AMOUNT_NAMES[1:-1]})\s+(?:at|of|rate of|rate is|is|was|are)\s+({PCT})\s+(?:on|of|for)\s+(?:an?\s+|the\s+)?({NUM})"
)
ADDED_ON = ("tax", "vat", "gst", "fee", "service charge", "tip")
TOTAL_ASKED = compiled(r"\b(total|altogether|in all|all in|all-in|final (?:price|cost|amount|bill)|grand total)\b")
SAVING_ASKED = compiled(
    r"\b(how much (?:do|will|would|can|could|did) (?:i|we|you) save|what(?:'s| is) the discount|"
    r"how much is the discount|how much off|savings? (?:is|are|would be)|"
    r"how much (?:is|was|will be|would be) (?:the|my|our|that) (?:raise|rise|increase|hike|cut|reduction))\b"
)
PERCENT_OF = compiled(rf"({PCT})\s+of\s+(?:an?\s+|the\s+)?({NUM})")
APPLIED_PERCENT = [  # (pattern, group of the base, of the percentage, of the verb)
    (CHANGE_BY_PERCENT, 2, 3, 1),
    (NUM_THEN_PERCENT_OFF, 1, 2, 3),
    (PERCENT_OFF, 3, 1, 2),
    (WITH_PERCENT, 1, 2, 3),
]
UP_WORDS = (
    "increase",
    "raise",
    "grow",
    "add",
    "mark up",
    "markup",
    "more than",
    "increase on",
    "more expensive",
    "on top of",
    "rise",
    "tax",
    "vat",
    "tip",
    "surcharge",
    "pay raise",
    "pay rise",
    "hike",
)


@recogniser
def percentages(text: Text, out: Analysis) -> None:
    for pattern, part, whole in WHAT_PERCENT:
        for m in text.finditer(pattern):
            p, w = num(m.group(part)), num(m.group(whole))
            _percent_of(p, w, f"{shown(p)} as a share of {shown(w)}", out)
            text.use(m)
    for pattern, base_at, pct_at, verb_at in APPLIED_PERCENT:
        for m in text.finditer(pattern):
            _apply_percent(
                num(m.group(base_at)),
                num(m.group(pct_at)),
                m.group(verb_at).lower(),
                out,
                saving=bool(SAVING_ASKED.search(text.value)),
            )
            text.use(m)
    for pattern, at, kind in ((PERCENT_AMOUNT, 1, 2), (AMOUNT_AT_PERCENT, 2, 1), (PERCENT_OF, 1, None)):
        for m in text.finditer(pattern):  # "20% VAT on £1,500", "VAT at 20% on £1,500", "20% of 1,500"
            percent, amount = num(m.group(at)), num(m.group(len(m.groups())))
            label = (
                f"{shown(percent)} {m.group(kind).lower()} on {shown(amount)}"
                if kind
                else f"{shown(percent)} of {shown(amount)}"
            )
            out.computations.append(
                Computation(
                    label,
                    f"{percent.value} / 100 * {amount.value}",
                    percent.value / 100 * amount.value,
                    currency=amount.currency,
                    inputs=[percent.value, amount.value],
                )
            )
            if kind and m.group(kind).lower() in ADDED_ON and TOTAL_ASKED.search(text.original or text.value):
                out.computations.append(
                    Computation(  # "7% sales tax on $89, and the total?"
                        f"{shown(amount)} with the {m.group(kind).lower()}",
                        f"{amount.value} * (1 + {percent.value} / 100)",
                        amount.value * (1 + percent.value / 100),
                        currency=amount.currency,
                        inputs=[amount.value, percent.value],
                    )
                )
            text.use(m)


def _apply_percent(base: Mention, pct: Mention, verb: str, out: Analysis, saving: bool = False) -> None:
    up = verb.startswith(UP_WORDS)
    if saving:  # "how much do I save if a $250 coat is 20% off?", "how much is the raise?": the change itself
        label = f"{shown(pct)} {verb} {shown(base)}" if up else f"{shown(pct)} off {shown(base)} saves"
        out.computations.append(
            Computation(
                label,
                f"{base.value} * {pct.value} / 100",
                base.value * pct.value / 100,
                currency=base.currency,
                inputs=[base.value, pct.value],
                kind="change" if up else "discount",
            )
        )
        return
    factor = 1 + pct.value / 100 if up else 1 - pct.value / 100
    label = f"{shown(base)} {'plus' if up else 'minus'} {shown(pct)}"
    out.computations.append(
        Computation(
            label,
            f"{base.value} * {factor}",
            base.value * factor,
            currency=base.currency,
            inputs=[base.value, pct.value],
        )
    )


FROM_TO = compiled(rf"\bfrom\s+({NUM})(?:\s+[a-z]+){{0,3}}?\s+to\s+({NUM})")
BETWEEN = compiled(
    rf"\b(?:change|difference|increase|decrease|growth|decline)\s+(?:between|from)\s+({NUM})\s+(?:and|to)\s+({NUM})"
)
BARE_CHANGE = compiled(
    rf"\b(?:grew|rose|went up|increased|fell|dropped|declined|decreased|went down|shrank|jumped|climbed)\s+({NUM})\s+to\s+({NUM})"
)
OVER_PERIODS = compiled(
    rf"\b(?:over|in|across|during|within|after)\s+(?:the\s+(?:next|last|past)\s+)?({NUM})\s+({PERIOD})"
)
CAGR_CUE = compiled(
    r"\b(cagr|compound(?:ed)?|annual(?:ly|i[sz]ed)?|per (?:year|annum|period|month|quarter)|a year|each year|yearly|every year)\b"
)
ABSOLUTE_CUE = compiled(
    r"\b(how much (?:more|less|did|does|has|have|was|is)|by how (?:much|many)|difference|absolute)\b"
)
PERCENT_CUE = compiled(r"%|\b(percent\w*|per cent|rate|growth|cagr|relative)\b")
DIFFERENCE = compiled(r"\bdifference\b")


@recogniser
def changes(text: Text, out: Analysis) -> None:
    found: list[re.Match] = []
    for m in sorted(
        [*text.finditer(BETWEEN), *text.finditer(FROM_TO), *text.finditer(BARE_CHANGE)],
        key=lambda m: (m.start(), -m.end()),
    ):
        if not found or m.start() >= found[-1].end():
            found.append(m)  # overlapping readings of the same words count once
    if not found:
        return
    periods = OVER_PERIODS.search(text.value)
    n = num(periods.group(1)).value if periods else None
    annual_only = bool(CAGR_CUE.search(text.value)) and n
    absolute = bool(ABSOLUTE_CUE.search(text.value)) and not PERCENT_CUE.search(text.value)
    for m in found:
        start, end = num(m.group(1)), num(m.group(2))
        a, b = start.value, end.value
        text.use(m)
        pair = f"{shown(start)} to {shown(end)}"
        if absolute and DIFFERENCE.search(text.value):  # a difference has no direction
            out.computations.append(
                Computation(
                    f"difference between {shown(start)} and {shown(end)}",
                    f"abs({b} - {a})",
                    abs(b - a),
                    currency=start.currency or end.currency,
                    inputs=[a, b],
                )
            )
            continue
        if absolute:
            out.computations.append(
                Computation(
                    f"change from {pair}", f"{b} - {a}", b - a, currency=start.currency or end.currency, inputs=[a, b]
                )
            )
            continue
        if a == 0:
            out.refusals.append(Refusal(f"change from {pair}", "a change from zero has no percentage"))
            continue
        change = (b - a) / a * 100
        if not annual_only:
            kind = "decline" if change < 0 else "growth" if change > 0 else "change"
            note = f"(a decline of {format_number(abs(change))}%)" if change < 0 else ""
            out.computations.append(
                Computation(
                    f"{kind} from {pair}", f"({b} - {a}) / {a} * 100", change, unit="%", inputs=[a, b], note=note
                )
            )
        if periods and n and n > 0 and a > 0 and b > 0:
            period = periods.group(2).rstrip("s").lower()
            out.computations.append(
                Computation(
                    f"compound annual growth rate from {pair} over {format_number(n)} {period}s"
                    if period == "year"
                    else f"compound growth rate per {period} from {pair} over {format_number(n)} {period}s",
                    f"(({b} / {a}) ** (1 / {n}) - 1) * 100",
                    ((b / a) ** (1 / n) - 1) * 100,
                    unit="%",
                    inputs=[a, b, n],
                )
            )


COMPOUND = compiled(
    rf"({NUM})[^.?!\d%]{{0,60}}?\b(?:at|by|of|earning|earns|with|growing|grows|paying|pays|yielding|returning|"
    rf"rising|increasing|compounding|shrinks|shrinking|falls|falling|declines|declining|loses|losing|drops|dropping|"
    rf"depreciates|depreciating)\s+(?:by\s+)?(?:an?\s+)?({PCT})"
    rf"[^\d]{{0,60}}?\b(?:for|over|after|in)\s+({NUM})\s+({PERIOD})"
)
SIMPLE = compiled(r"\bsimple interest\b")
COMPOUNDED = compiled(r"\bcompounded\s+(monthly|quarterly|weekly|daily)\b")
SHRINKS = compiled(r"\b(shrink|fall|declin|los|drop|depreciat)\w*\s+(?:by\s+)?(?:an?\s+)?$")


@recogniser
def compound_growth(text: Text, out: Analysis) -> None:
    for m in text.finditer(COMPOUND):
        base, rate, n = num(m.group(1)), num(m.group(2)), num(m.group(3))
        if SHRINKS.search(text.value[: m.start(2)]):  # "shrinks 5% a year": a negative rate
            rate = Mention(-rate.value, -rate.raw, rate.percent, rate.currency, rate.start, rate.end, rate.text)
        if base.percent or rate.value <= -100 or n.value > 1000:
            continue
        period = m.group(4).rstrip("s").lower()
        per_year = COMPOUNDED.search(text.value)
        if per_year and period == "year" and not SIMPLE.search(text.value):
            k = {"monthly": 12, "quarterly": 4, "weekly": 52, "daily": 365}[per_year.group(1).lower()]
            expression = f"{base.value} * (1 + {rate.value} / 100 / {k}) ** ({n.value} * {k})"
            value = base.value * (1 + rate.value / 100 / k) ** (n.value * k)
            label = (
                f"{shown(base)} at {shown(rate)} a year compounded {per_year.group(1).lower()} "
                f"for {format_number(n.value)} years"
            )
            out.computations.append(
                Computation(
                    label,
                    expression,
                    value,
                    currency=base.currency,
                    inputs=[base.value, rate.value, n.value],
                    kind="growth",
                )
            )
            text.use(m)
            continue
        if SIMPLE.search(text.value):
            value = base.value * (1 + rate.value / 100 * n.value)
            expression = f"{base.value} * (1 + {rate.value} / 100 * {n.value})"
            label = f"{shown(base)} with {shown(rate)} simple interest for {format_number(n.value)} {period}s"
        else:
            try:
                value = base.value * safe_eval(f"(1 + {rate.value} / 100) ** {n.value}")
            except Refused as refused:
                out.refusals.append(Refusal(m.group(0).strip(), str(refused)))
                text.use(m)
                continue
            expression = f"{base.value} * (1 + {rate.value} / 100) ** {n.value}"
            label = f"{shown(base)} growing {shown(rate)} a {period} for {format_number(n.value)} {period}s"
        out.computations.append(
            Computation(label, expression, value, currency=base.currency, inputs=[base.value, rate.value, n.value])
        )
        text.use(m)


RATE = compiled(rf"({NUM})\s*(?:([a-z]+)\s+)?(?:per|an?|each|every|/)\s*({UNIT}|[a-z]+)\b")
SPAN = compiled(
    rf"\b(?:over|for|in|during|across|after|within|x|×|\*|times)\s+(?:a\s+period\s+of\s+|the\s+next\s+)?({NUM})\s+({UNIT}|[a-z]+)"
)
PER_TARGET = compiled(rf"\b(?:per|an?|each|every|in\s+a|in\s+one)\s+({UNIT})\s*\??\s*$|\bper\s+({UNIT})\b")


@recogniser
def rates(text: Text, out: Analysis) -> None:
    """Rate × duration: "$40 per month over 18 months", "60 km per hour for 2.5 hours"."""
    for rate_match in text.finditer(RATE):
        rate, noun, per = num(rate_match.group(1)), rate_match.group(2) or "", rate_match.group(3).lower()
        if rate.percent:
            continue
        rest = text.value[rate_match.end() :]
        for span in SPAN.finditer(rest):
            count, what = num(span.group(1)), span.group(2).lower()
            factor = _per_factor(per, what)
            if factor is None:
                continue
            total = rate.value * count.value * factor
            thing = f" {noun}" if noun and not rate.currency else ""
            out.computations.append(
                Computation(
                    f"{shown(rate)}{thing} per {per} for {format_number(count.value)} {what}",
                    f"{rate.value} * {count.value} * {factor:g}",
                    total,
                    currency=rate.currency,
                    unit=thing,
                    inputs=[rate.value, count.value],
                )
            )
            text.use(rate_match)
            return
        # "$3,000 a month: what is that per year?"
        target = PER_TARGET.search(rest)
        unit = (target.group(1) or target.group(2)) if target else None
        target_unit = units.find_unit(unit) if unit else None
        if unit and target_unit and units.find_unit(per) and unit.lower() != per:
            factor = _per_factor(per, unit)
            if factor:
                out.computations.append(
                    Computation(
                        f"{shown(rate)} per {per} as a rate per {target_unit.name.rstrip('s')}",
                        f"{rate.value} * {factor:g}",
                        rate.value * factor,
                        currency=rate.currency,
                        inputs=[rate.value],
                    )
                )
                text.use(rate_match)
                return


def _per_factor(per: str, what: str) -> float | None:
    """How many `per` units one `what` holds: per month, 2 years -> 12 per year."""
    a, b = units.find_unit(per), units.find_unit(what)
    if a and b and a.dimension == b.dimension:
        return b.factor / a.factor
    if _singular(per) == _singular(what):
        return 1.0
    return None


def _singular(word: str) -> str:
    word = word.lower()
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


RATIO = compiled(rf"\bratio\s+of\s+({NUM})\s+(?:to|and)\s+({NUM})")
SPLIT = compiled(
    rf"\b(?:split|share|divide|divided)\s+(?:up\s+)?({NUM})\s+(?:\w+\s+)?(?:equally\s+|evenly\s+)?(?:between|among|amongst|by|into|across)\s+({NUM})"
)


@recogniser
def ratios(text: Text, out: Analysis) -> None:
    for m in text.finditer(RATIO):
        a, b = num(m.group(1)), num(m.group(2))
        if b.value:
            out.computations.append(
                Computation(
                    f"ratio of {shown(a)} to {shown(b)}",
                    f"{a.value} / {b.value}",
                    a.value / b.value,
                    inputs=[a.value, b.value],
                )
            )
            text.use(m)
    for m in text.finditer(SPLIT):
        a, b = num(m.group(1)), num(m.group(2))
        if b.value:
            out.computations.append(
                Computation(
                    f"{shown(a)} split {format_number(b.value)} ways",
                    f"{a.value} / {b.value}",
                    a.value / b.value,
                    currency=a.currency,
                    inputs=[a.value, b.value],
                )
            )
            text.use(m)


# --- lists and tables --------------------------------------------------------------------------------
STATISTICS: dict[str, tuple[re.Pattern, Callable[[list[float]], float]]] = {
    "sum": (compiled(r"\b(sum|total|add(?:ed|s)? (?:up|together)|altogether|in all|combined)\b"), math.fsum),
    "mean": (compiled(r"\b(average|mean|avg)\b"), statistics.fmean),
    "median": (compiled(r"\bmedian\b"), statistics.median),
    "minimum": (compiled(r"\b(minimum|min|lowest|smallest|least)\b"), min),
    "maximum": (compiled(r"\b(maximum|max|highest|largest|biggest|greatest)\b"), max),
    "range": (compiled(r"\brange\b"), lambda v: max(v) - min(v)),
    "population standard deviation": (compiled(r"\bpopulation (standard deviation|std|stdev)\b"), statistics.pstdev),
    "standard deviation": (compiled(r"(?<!population )\b(standard deviation|std ?dev|stdev|std)\b"), statistics.stdev),
    "variance": (compiled(r"\bvariance\b"), statistics.variance),
}
LABEL_COLUMN = compiled(r"year|date|month|quarter|period|week|day|\bid\b|name|item")
GROWTH_CUE = compiled(r"\b(growth|grew|change|trend|increase|decrease|cagr|rose|fell)\b")


def _statistics_asked(text: str) -> list[str]:
    return [name for name, (cue, _) in STATISTICS.items() if cue.search(text)]


def _describe(label: str, values: list[float], asked: list[str], currency: str = "") -> list[Computation]:
    out = []
    for name in asked:
        if name in ("standard deviation", "variance") and len(values) < 2:
            continue
        value = STATISTICS[name][1](values)
        out.append(
            Computation(
                f"{name} of {label}",
                f"{name.replace(' ', '_')}({values})",
                value,
                currency=currency,
                inputs=list(values),
            )
        )
    return out


@recogniser
def tables(text: Text, out: Analysis) -> None:
    columns, lines = parse_table(text.value)
    if not columns:
        return
    request = "\n".join(line for line in text.value.splitlines() if line.strip() not in lines)
    asked = _statistics_asked(request)
    growth = bool(GROWTH_CUE.search(request))
    if not asked and not growth:
        asked = ["sum", "mean"]
    for name, values in columns.items():
        out.computations += _describe(name, values, asked)
        if growth and len(values) >= 2 and values[0]:
            a, b = values[0], values[-1]
            out.computations.append(
                Computation(
                    f"growth of {name} from {format_number(a)} to {format_number(b)}",
                    f"({b} - {a}) / {a} * 100",
                    (b - a) / a * 100,
                    unit="%",
                    inputs=[a, b],
                )
            )
    text.value = request  # the table is used up


@recogniser
def lists(text: Text, out: Analysis) -> None:
    asked = _statistics_asked(text.value)
    if not asked:
        return
    found = [m for m in mentions(text.value) if not m.percent]
    if found and COUNT_OF_ITEMS.match(text.value[found[0].end :]) and found[0].value == len(found) - 1:
        out.labels.append(found[0].value)
        found = found[1:]  # "three items cost $4.99, $12.50 and $7.25": the count is no item
    measured = {_unit_after(text.value, m) for m in found}
    if len(found) < 2 or len(measured) > 1 or len({bool(m.currency) for m in found}) > 1:
        return  # "300 km in 2.5 hours", "$45 each for 5": no average of a distance and a time, no sum of $ and a count
    values = [m.value for m in found]
    currency = next((m.currency for m in found if m.currency), "")
    label = _listing([shown(m) for m in found])
    out.computations += _describe(label, values, asked, currency)
    text.value = " " * len(text.value)


COUNT_OF_ITEMS = compiled(r"\s+[a-z]+(?:\s+[a-z]+)?\s+(?:cost|costs|are|were|priced|at|:)")
UNIT_AFTER = compiled(rf"\s*({UNIT})")


def _unit_after(text: str, m: Mention) -> str:
    found = UNIT_AFTER.match(text, m.end)
    unit = units.find_unit(found.group(1)) if found else None
    return unit.dimension if unit else ""


def _listing(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else items[0]


def parse_table(text: str) -> tuple[dict[str, list[float]], set[str]]:
    """Numeric columns of the first markdown or CSV table in text, and the table's lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    rows: list[list[str]] = []
    used: set[str] = set()
    if sum(line.startswith("|") for line in lines) >= 3:
        for line in lines:
            if line.startswith("|"):
                used.add(line)
                if not re.fullmatch(r"\|[\s:\-|]+\|?", line):
                    rows.append([cell.strip() for cell in line.strip("|").split("|")])
    else:
        candidates = [line for line in lines if re.fullmatch(r"[^,]+(,[^,]*)+", line)]
        if len(candidates) >= 3:
            used = set(candidates)
            rows = list(csv.reader(io.StringIO("\n".join(candidates))))
    if len(rows) < 3:
        return {}, set()
    header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    columns: dict[str, list[float]] = {}
    for index, name in enumerate(header):
        if LABEL_COLUMN.search(name):
            continue  # years and dates label the rows; their sum means nothing
        cells = [mentions(row[index]) for row in body]
        if cells and all(len(c) == 1 for c in cells):
            columns[name or f"column {index + 1}"] = [c[0].value for c in cells]
    return columns, used


# --- plain expressions -------------------------------------------------------------------------------
TOKEN = re.compile(
    r"(?:sqrt|log10|log|ln|exp|abs|round)\s*\(|\d+(?:\.\d+)?|\.\d+|\*\*|[-+*/^(),]|[ \t]+|[$€£¥₹]|.", re.DOTALL
)
SCALED = re.compile(r"\d+(?:\.\d+)?(?:k|K|M|bn)\b")
OPERATOR = re.compile(r"\*\*|[-+*/^]|[a-z]+\(")


@recogniser
def expressions(text: Text, out: Analysis) -> None:
    plain = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.value)
    plain = SCALED.sub(lambda m: f"{num(m.group(0)).value:g}", plain)
    for expression in _expression_runs(plain):
        if not OPERATOR.search(expression) or _looks_like_a_date(expression):
            continue
        label = _expression_label(expression, text)
        try:
            value = safe_eval(expression)
        except Refused as refused:
            out.refusals.append(Refusal(_short(expression), str(refused)))
            continue
        inputs = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", expression)]
        out.computations.append(Computation(label.strip(), expression, value, inputs=inputs))


def _expression_label(expression: str, text: Text) -> str:
    """The expression as the user put it: "17 squared", "six * seven", "1,000 / 8"."""
    label = re.sub(r"\s*(\*\*|[-+*/^])\s*", r" \1 ", expression).replace("( ", "(").replace(" )", ")")
    for power, word in (("2", "squared"), ("3", "cubed")):
        if re.search(rf"\b{word}\b", text.original, re.IGNORECASE):
            label = re.sub(rf"\s\^ {power}\b", f" {word}", label)

    def restate(m: re.Match) -> str:
        value = float(m.group(0))
        return text.spoken.get(value, format_number(value))

    return (
        re.sub(r"(?<![\w^] )(?<!\^ )\d+(?:\.\d+)?(?! squared| cubed)", restate, label)
        if text.spoken
        else re.sub(r"\d+(?:\.\d+)?", lambda m: format_number(float(m.group(0))), label)
    )


def _expression_runs(text: str) -> list[str]:
    """Maximal runs of arithmetic tokens, found in one linear pass (no regex backtracking)."""
    runs, current, depth = [], [], 0
    for token in TOKEN.findall(text):
        arithmetic = (
            token.strip() == ""
            or token[0].isdigit()
            or token[0] == "."
            or token in "+-*/^()**,"
            or token.endswith("(")
            or token in CURRENCY
        )
        if token == "," and depth == 0:
            arithmetic = False  # a comma separates list items, except inside min(...)
        if arithmetic:
            if token in CURRENCY:
                continue
            depth += token.count("(") - token.count(")")
            current.append(token)
        else:
            runs.append("".join(current))
            current, depth = [], 0
    runs.append("".join(current))
    return [cleaned for run in runs if (cleaned := _trim(run))]


def _trim(run: str) -> str:
    run = run.strip()
    while run and run[-1] in "+-*/^,(":
        run = run[:-1].rstrip()
    while run and run[0] in "+*/^,)":
        run = run[1:].lstrip()
    while run.count("(") > run.count(")") and run.startswith("("):
        run = run[1:].lstrip()
    while run.count(")") > run.count("(") and run.endswith(")"):
        run = run[:-1].rstrip()
    return run if re.search(r"\d", run) else ""


def _looks_like_a_date(expression: str) -> bool:
    """2023-01-05, 555-1234, 10/12/2024: digits joined by - or / with no spaces around them."""
    return (
        bool(re.fullmatch(r"\d+(?:[-/]\d+)+", expression.replace(" ", "")))
        and " " not in expression
        and (expression.count("-") + expression.count("/")) >= 2
        or bool(re.fullmatch(r"\d+-\d+", expression))
    )


def _short(expression: str) -> str:
    return expression if len(expression) <= 80 else expression[:77] + "..."


# --- entry points ---------------------------------------------------------------------------------------
def analyse(text: str, recognisers: list[Recogniser] | None = None) -> Analysis:
    """The computations a request asks for (and the ones refused), in the order they were asked."""
    out = Analysis()
    if long := LONG_NUMBER.search(text):  # past any everyday figure, and slow to scan: refused first
        out.refusals.append(Refusal(_short(long.group(0)), f"a number in it has more than {MAX_NUMBER_DIGITS} digits"))
        return out
    spoken: dict[float, str] = {}
    reading = Text(normalise(text, spoken), spoken, text)
    for recognise in RECOGNISERS if recognisers is None else recognisers:
        recognise(reading, out)
    return out


FOLLOW_UP = compiled(
    r"^\s*(?:and|what about|how about|and what about|now|then|same for|what if|and if|ok(?:ay)?|"
    r"make (?:it|that)|change (?:it|that) to|try|say|instead|use|with)\b|^\s*(?:to|from|over)\s+\d"
)
FOLLOW_TO = compiled(rf"\bto\s+({NUM})")
FOLLOW_FROM = compiled(rf"\bfrom\s+({NUM})")
FOLLOW_OVER = compiled(rf"\b(?:over|in|for)\s+({NUM})\s+({PERIOD})")


def is_follow_up(text: str) -> bool:
    return bool(FOLLOW_UP.search(text)) and len(text.split()) <= 12


def follow_up(text: str, earlier: list[str], read: Callable[[str], Analysis] = analyse) -> str:
    """ "and to 200?" after "growth from 120 to 150?": the earlier request with the new number in it
    ("" when text is no follow-up of an earlier request that `read` computes from)."""
    if not is_follow_up(text):
        return ""
    new = normalise(text)
    for previous in reversed(earlier):
        base = normalise(previous)
        if not read(base).computations:
            continue
        revised = base
        to, start, over = FOLLOW_TO.search(new), FOLLOW_FROM.search(new), FOLLOW_OVER.search(new)
        from_to = FROM_TO.search(base)
        if from_to and (to or start):
            if to:
                revised = revised[: from_to.start(2)] + to.group(1) + revised[from_to.end(2) :]
            if start:
                revised = revised[: from_to.start(1)] + start.group(1) + revised[from_to.end(1) :]
        elif over and (old := OVER_PERIODS.search(base)):
            revised = base[: old.start(1)] + over.group(1) + base[old.end(1) :]
        else:
            numbers_now, numbers_then = mentions(new), mentions(base)
            if len(numbers_now) != 1 or not numbers_then:
                return ""
            # the new number takes the place of the last one of its kind: "and 20%?" replaces a percentage
            now = numbers_now[0]
            same_kind = [
                m
                for m in numbers_then
                if m.percent == now.percent and (bool(m.currency) == bool(now.currency) or not now.currency)
            ] or numbers_then
            last = same_kind[-1]
            revised = base[: last.start] + now.text + base[last.end :]
        return revised
    return ""
