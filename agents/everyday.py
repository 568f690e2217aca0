"""Everyday money and measure questions, read by what they ask rather than by one phrasing.

Each reader here looks for the cue of one kind of question (a tip, a loan, a wage, a price per
unit, a share, a reverse or chained percentage) and then takes the request's numbers by their
roles: an amount, a percentage, a count of people, a term. It answers only when every number has
a role, so a reading never leaves a number of the user's unexplained; what it cannot place it
leaves to the other readers, and the reading check (reading.py) declines what no reader accounts
for. Each reader uses up the whole request, since it has read all of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agents import units
from agents.calculator import Computation, format_number, safe_eval
from agents.numbers import CURRENCY as CURRENCY_SIGNS, Mention, mentions
from agents.word_problems import Analysis, Text, _convert, compiled, shown

Reader = Callable[[Text, Analysis], bool]
READERS: list[Reader] = []


def reader(function: Reader) -> Reader:
    READERS.append(function)
    return function


def read_everyday(text: Text, out: Analysis) -> None:
    """The first reader that accounts for the request reads it all."""
    for read in READERS:
        if read(text, out):
            text.value = " " * len(text.value)
            return


YEAR = re.compile(r"^(?:19|20)\d\d$")


def numbers(text: str) -> list[Mention]:
    """The request's numbers, less the years that label them ("in 2023")."""
    return [m for m in mentions(text) if not is_year(m, text)]


def is_year(m: Mention, text: str) -> bool:
    if m.currency or m.percent or m.value != m.raw or not YEAR.match(m.text.strip()):
        return False
    before = text[:m.start].rstrip().lower()
    return not re.search(r"[-+*/×x]$|\b(of|times|by|plus|minus)$", before)


def amounts(found: list[Mention]) -> list[Mention]:
    return [m for m in found if not m.percent]


def percents(found: list[Mention]) -> list[Mention]:
    return [m for m in found if m.percent]


def money(m: Mention, text: str) -> Mention:
    """A number followed by "dollars" or "cents" is money too."""
    after = text[m.end:m.end + 10].lower()
    if not m.currency and re.match(r"\s*(dollars?|bucks|usd)\b", after):
        return Mention(m.value, m.raw, False, "$", m.start, m.end, f"${m.text}")
    if not m.currency and re.match(r"\s*cents?\b", after):
        return Mention(m.value / 100, m.raw / 100, False, "$", m.start, m.end, f"{m.text} cents")
    return m


def cue(pattern: str) -> re.Pattern:
    return compiled(pattern)


def add(out: Analysis, label: str, expression: str, value: float, inputs: list[float], kind: str,
        currency: str = "", unit: str = "", note: str = "") -> None:
    out.computations.append(Computation(label, expression, value, unit=unit, currency=currency,
                                        inputs=inputs, note=note, kind=kind))


# --- tips, and bills split with or without one ------------------------------------------------------
TIP = cue(r"\b(tip|tips|tipping|gratuity|service charge)\b")
PEOPLE = cue(r"(\d+(?:\.\d+)?)\s*(?:people|persons|friends|guests|diners|colleagues|roommates|flatmates|housemates|"
             r"kids|children|players|members|ways|of us|of them|at the table)\b|\beach of\s+(\d+)\b"
             r"|\b(?:for|party of|table of)\s+(\d+)\b(?!\s*(?:%|[a-z]+\b(?<!came)(?<!was)(?<!is)))"
             r"|\b(?:group|party|table|family|team|household) of\s+(\d+)\b"
             r"|\b(?:between|among|amongst|by|across|into|we're|we are|there are|party of)\s+(\d+)\b(?!\s*[%$€£])")
SPLIT_ASKED = cue(r"\b(split|divid\w*|shar\w*|each|per person|per head|apiece|everyone|every one|ways|owe)\b")
TOTAL_ASKED = cue(r"\b(total|altogether|in all|all in|come to|comes to|we pay|i pay|do we pay|do i pay|"
                  r"each|per person|per head|apiece|share|everyone|every one|split)\b")


@reader
def tips_and_splits(text: Text, out: Analysis) -> bool:
    value = text.value
    found = numbers(value)
    people_match = PEOPLE.search(value)
    people = None
    if people_match:
        group = next(g for g in (1, 2, 3, 4, 5) if people_match.group(g))
        people_at = people_match.end(group)
        people = next((m for m in found if m.end == people_at and not m.currency), None)
    rest = [money(m, value) for m in found if m is not people]
    pcts, bills = percents(rest), amounts(rest)
    tipped = TIP.search(value)
    if len(bills) != 1 or len(pcts) > 1 or (tipped and len(pcts) != 1) or (not tipped and pcts):
        return False
    if not tipped and not (people and re.search(r"\b(split|divid\w*|shar\w*|each|per person)\b", value, re.I)):
        return False
    bill = bills[0]
    total, total_expr = bill.value, f"{bill.value}"
    if tipped:
        pct = pcts[0]
        tip = bill.value * pct.value / 100
        add(out, f"{shown(pct)} tip on {shown(bill)}", f"{pct.value} / 100 * {bill.value}", tip,
            [pct.value, bill.value], "tip", bill.currency)
        if not (TOTAL_ASKED.search(value) or people):
            return True
        total, total_expr = bill.value + tip, f"{bill.value} * (1 + {pct.value} / 100)"
        add(out, f"{shown(bill)} with the tip", total_expr, total, [bill.value, pct.value], "total", bill.currency)
    if people and not SPLIT_ASKED.search(value):
        out.labels.append(people.value)  # "lunch for 2": a count of diners, not a split asked for
        people = None
    if people:
        if not people.value:
            return False
        add(out, f"each of {format_number(people.value)} people pays", f"{total_expr} / {people.value}",
            total / people.value, [total, people.value], "split", bill.currency)
    return True


# --- reverse percentages: the figure before a rise, a discount or a tax --------------------------
BEFORE = cue(r"\b(before|original(?:ly)?|old|previous(?:ly)?|full price|beforehand|pre-?(?:tax|vat|discount|sale)"
             r"|without (?:the )?(?:tax|vat|discount)|excluding|ex[- ]vat|net of|to start|at first|used to|"
             r"start(?:ed)?(?: at| with)?|initial(?:ly)?|regular price|list price|"
             r"(?:more|less|higher|lower|cheaper|above|below) than (?:the |what |they |we |i |you )?\w+ (?:paid|was|were|cost))\b")
UP = cue(r"\b(up|add|adds|added|adding|plus|rose|rise[ns]?|raised?|increas\w*|grew|grow\w*|gain\w*|climb\w*|jump\w*|tax|vat|"
         r"including|incl|markup|marked up|more|higher)\b")
DOWN = cue(r"\b(down|fell|fall\w*|drop\w*|declin\w*|decreas\w*|cut|off|discount\w*|sale|reduc\w*|lost|"
           r"los[es]\w*|shr[ai]nk\w*|less|lower|cheaper)\b")


@reader
def reverse_percentages(text: Text, out: Analysis) -> bool:
    value = text.value
    found = numbers(value)
    pcts, rest = percents(found), [money(m, value) for m in amounts(found)]
    if len(pcts) != 1 or len(rest) != 1 or not BEFORE.search(value):
        return False
    pct, now = pcts[0], rest[0]
    if re.search(r"\bthan\s+(?:the\s+)?[$€£]?\s?\d", value, re.I):
        return False  # "15% more than $300" is forward
    up, down = bool(UP.search(value)), bool(DOWN.search(value))
    if up == down or (not up and pct.value >= 100):
        return False  # which way it moved is unclear: leave it
    factor = f"(1 + {pct.value} / 100)" if up else f"(1 - {pct.value} / 100)"
    before = now.value / (1 + pct.value / 100 if up else 1 - pct.value / 100)
    way = "a rise" if up else "a fall"
    add(out, f"the figure before {way} of {shown(pct)} to {shown(now)}", f"{now.value} / {factor}", before,
        [now.value, pct.value], "reverse", now.currency)
    return True


# --- percentage points against percent ----------------------------------------------------------------
POINTS_PAIR = cue(r"\bfrom\s+(-?\d+(?:\.\d+)?)\s?%\s+(?:\w+\s+){0,3}?to\s+(-?\d+(?:\.\d+)?)\s?%")


@reader
def percentage_points(text: Text, out: Analysis) -> bool:
    value = text.value
    match = POINTS_PAIR.search(value)
    if not match or len(numbers(value)) != 2:
        return False
    a, b = float(match.group(1)), float(match.group(2))
    change = b - a
    way = "rise" if change >= 0 else "fall"
    add(out, f"the {way} from {match.group(1)}% to {match.group(2)}% in percentage points",
        f"abs({b} - {a})", abs(change), [a, b], "points", unit=" percentage points")
    if a:
        add(out, f"the {way} from {match.group(1)}% to {match.group(2)}% in percent (relative)",
            f"abs({b} - {a}) / {a} * 100", abs(change) / abs(a) * 100, [a, b], "change", unit="%")
    return True


# --- loans and mortgages: the payment (amortisation) and the interest -------------------------------
LOAN = cue(r"\b(loan|loans|mortgage|borrow\w*|financ\w*|repay\w*|instal+ments?|amorti[sz]\w*|car payment|"
          r"monthly payments?|pay(?:ing)? off|apr)\b")
TERM = cue(r"(\d+(?:\.\d+)?)[\s-]*(years?|yrs?|months?|mos?)\b")


@reader
def loans(text: Text, out: Analysis) -> bool:
    value = text.value
    if not LOAN.search(value):
        return False
    found = numbers(value)
    term = TERM.search(value)
    pcts = percents(found)
    rest = [m for m in amounts(found) if not (term and m.end == term.end(1))]
    if not term or len(pcts) != 1 or len(rest) != 1:
        return False
    principal, rate = rest[0], pcts[0]
    n = float(term.group(1)) * (12 if term.group(2).lower().startswith("y") else 1)
    if not 0 < n <= 1200 or not 0 <= rate.value < 100 or principal.value <= 0:
        return False
    r = rate.value / 100 / 12
    if r:
        payment = principal.value * r / (1 - (1 + r) ** -n)
        expression = f"{principal.value} * {r} / (1 - (1 + {r}) ** -{n})"
    else:
        payment, expression = principal.value / n, f"{principal.value} / {n}"
    inputs = [principal.value, rate.value, float(term.group(1))]
    cur = principal.currency
    add(out, f"monthly payment on {shown(principal)} at {shown(rate)} a year over {format_number(n)} months",
        expression, payment, inputs, "payment", cur)
    add(out, f"total interest over the {format_number(n)} months", f"{expression} * {n} - {principal.value}",
        payment * n - principal.value, inputs, "interest", cur)
    return True


# --- pay: a wage or salary per hour, week, month or year --------------------------------------------
PAY = cue(r"\b(earn\w*|salary|salaries|wages?|paid|pay|make|makes|income|take-?home|gross|i'?m on|i am on)\b")
PERIOD_WORDS = {
    "hour": r"an hour|per hour|a hour|hourly|/\s?h(?:ou)?r|each hour",
    "day": r"a day|per day|daily|/\s?day|each day",
    "week": r"a week|per week|weekly|/\s?w(?:ee)?k|each week|every week",
    "month": r"a month|per month|monthly|/\s?mo(?:nth)?|each month|every month",
    "year": r"a year|per year|yearly|annual(?:ly)?|per annum|/\s?y(?:ea)?r|each year|every year|a yr",
}
PERIOD_OF = {name: cue(rf"(?:{words})\b") for name, words in PERIOD_WORDS.items()}
ADJACENT = compiled(r"\s*(?:dollars?|bucks|usd|euros?|pounds?)?\s*")  # "$52,000 a year", "25 dollars an hour"
WORK_HOURS = {"hour": 2080.0, "day": 260.0, "week": 52.0, "month": 12.0, "year": 1.0}  # in a working year


@reader
def pay(text: Text, out: Analysis) -> bool:
    value = text.value
    if not PAY.search(value):
        return False
    found = [money(m, value) for m in numbers(value)]
    if len(found) != 1 or found[0].percent:
        return False
    amount = found[0]
    said = [(match.start(), name) for name, pattern in PERIOD_OF.items() for match in pattern.finditer(value)]
    said.sort()
    if not said and re.search(r"\bsalary\b", value, re.I):
        said = [(amount.start, "year")]
    source = next((name for at, name in said if at >= amount.end and ADJACENT.fullmatch(value[amount.end:at])), None) \
        or next((name for at, name in said if at < amount.start and amount.start - at < 25), None)  # "hourly rate is $42"
    if source is None and (re.search(r"\bannual\b", value[:amount.start], re.I) or re.search(r"\bsalary\b", value, re.I)):
        source = "year"
    targets = list(dict.fromkeys(name for at, name in said if name != source))  # "Per month, how much is $39k a year?"
    if not source or len(targets) != 1 or not amount.currency:
        return False
    target = targets[0]
    factor = WORK_HOURS[source] / WORK_HOURS[target]
    note = "(taking a working year of 2,080 hours: 40 hours a week for 52 weeks)" \
        if "hour" in (source, target) or "day" in (source, target) else \
        "(taking 52 weeks a year)" if "week" in (source, target) else ""
    add(out, f"{shown(amount)} a {source} as pay per {target}", f"{amount.value} * {WORK_HOURS[source]} / "
        f"{WORK_HOURS[target]}", amount.value * factor, [amount.value], "wage", amount.currency, note=note)
    return True


# --- quantities with units, and what one is per another -------------------------------------------
QUANTITY = compiled(rf"(\d[\d,]*(?:\.\d+)?|\.\d+)[\s-]*({units.UNIT_PATTERN}|kwh|gallons?|cans?|bottles?|"
                    r"eggs?|items?|units?|pieces?|cookies?|slices?|tickets?|boxes?)(?![a-z])")
PER_ASK = compiled(rf"(?:how many\s+)?({units.UNIT_PATTERN}|kwh|\w+)\s+(?:per|a|an|each|every|/)\s+(?:(\d+)\s+)?"
                   rf"({units.UNIT_PATTERN}|\w+)")
PRICE_ASK = cue(r"\b(price|cost|costs|what|how much)\b[^.?!]*?\b(?:per|a|an|each|/)\s+(?:(\d+)\s+)?(\w+)")
LAST_PER = cue(r"()\b(?:per|each|a)\s+(?:(\d+)\s+)?(\w+)\s*[?.!]*\s*$")
SPEED_ASK = cue(r"\b(average speed|how fast|speed)\b")
DAILY = {"daily": "day", "weekly": "week", "monthly": "month", "hourly": "hour", "yearly": "year"}


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


@reader
def unit_rates(text: Text, out: Analysis) -> bool:
    """"420 km on 35 litres: km per litre?", "$8.75 for 2.5 kg: price per kg?", "300 km in 2.5 hours"."""
    value = text.value
    quantities = _quantities(value)
    found = [money(m, value) for m in numbers(value)]
    scale = {match.end(1) for match in SCALE_OF_ASK.finditer(value)}
    found = [m for m in found if m.end not in scale]
    prices = [m for m in found if m.currency]
    pack = re.search(r"(\d+)[\s-]*pack\b|\bpack of (\d+)\b", value, re.I)
    if pack:
        count = next(m for m in found if m.end in (pack.end(1), pack.end(2)))
        quantities.append((count, "item"))
    counted = {m.end for m, _ in quantities} | {m.end for m in prices}
    if len(quantities) + len(prices) != 2 or any(m.end not in counted for m in found):
        return False
    if len(prices) == 1 and len(quantities) == 1:
        asked = PRICE_ASK.search(value[max(0, value.lower().rfind("price") - 1):]) or PRICE_ASK.search(value) \
            or LAST_PER.search(value)  # "A 6-pack costs $10.50. Per bottle?"
        if not asked:
            return False
        per = asked.group(3).lower()
        per = "item" if pack and per in ("can", "bottle", "item", "unit", "each", "one", "pack") else per
        (q, unit), price = quantities[0], prices[0]
        if re.match(r"\s*(?:per|an?|each|every|/)\s", value[price.end:]):
            return False  # "$18.50 per hour for 40 hours" is a rate times a span
        factor = _same(per, unit) if unit != "item" or per == "item" else None
        if factor is None:
            return False
        scale = float(asked.group(2)) if asked.group(2) else 1.0
        result = price.value / (q.value / factor) * scale
        add(out, f"{shown(price)} for {format_number(q.value)} {unit}, per {format_number(scale) + ' ' if scale != 1 else ''}"
            f"{per}", f"{price.value} / ({q.value} / {factor:g}) * {scale:g}", result, [price.value, q.value],
            "unit_rate", price.currency)
        return True
    if len(quantities) != 2:
        return False
    (qa, ua), (qb, ub) = quantities
    if SPEED_ASK.search(value):
        distance, time = ((qa, ua), (qb, ub)) if units.find_unit(ub) and units.find_unit(ub).dimension == "[time]" \
            else ((qb, ub), (qa, ua))
        hours = _same(time[1], "hour")
        dist_unit = units.find_unit(distance[1])
        if hours is None or not dist_unit or dist_unit.dimension != "[length]":
            return False
        shown_unit = "mph" if dist_unit.name == "miles" else "km/h" if dist_unit.name == "kilometres" else \
            f"{dist_unit.name} per hour"
        per_hour = distance[0].value / (time[0].value * hours)
        add(out, f"average speed over {format_number(distance[0].value)} {distance[1]} in "
            f"{format_number(time[0].value)} {time[1]}", f"{distance[0].value} / ({time[0].value} * {hours:g})",
            per_hour, [distance[0].value, time[0].value], "unit_rate", unit=f" {shown_unit}")
        return True
    ask = PER_ASK.search(value[max(qa.end, qb.end):])
    daily = re.search(r"\b(daily|weekly|monthly|hourly|yearly)\b", value, re.I)
    if ask:
        top, scale, bottom = ask.group(1).lower(), float(ask.group(2) or 1), ask.group(3).lower()
    elif re.search(r"\bmpg\b", value, re.I):
        top, scale, bottom = "miles", 1.0, "gallon"
    elif re.search(r"\bpace\b", value, re.I):
        return False
    elif daily:
        top, scale, bottom = (ua if not units.find_unit(ua) or units.find_unit(ua).dimension != "[time]" else ub), \
            1.0, DAILY[daily.group(1).lower()]
    else:
        return False
    for (qt, ut), (qd, ud) in (((qa, ua), (qb, ub)), ((qb, ub), (qa, ua))):
        f_top, f_bottom = _same(ut, top), _same(ud, bottom)
        if f_top is not None and f_bottom is not None and qd.value:
            result = (qt.value * f_top) / (qd.value * f_bottom) * scale
            bottom_shown = f"{format_number(scale)} {bottom}" if scale != 1 else bottom
            add(out, f"{format_number(qt.value)} {ut} over {format_number(qd.value)} {ud}, in {top} per {bottom_shown}",
                f"({qt.value} * {f_top:g}) / ({qd.value} * {f_bottom:g}) * {scale:g}", result,
                [qt.value, qd.value, scale], "unit_rate", unit=f" {top} per {bottom_shown}")
            return True
    return False


# --- shares, margins, markups, churn and savings rates ---------------------------------------------
SHARE_ASK = cue(r"\b(percent\w*|%|share|proportion|rate|margin|markup|mark-up|fraction|portion|churn)\b")
MARGIN = cue(r"\bmargin\b")
MARKUP = cue(r"\bmark-?up\b")
COST = cue(r"\b(costs?|expenses?|spend|spent|buy|bought|paid)\b")
PROFIT = cue(r"\b(?:profit|earnings|net income)s?\s+(?:is|was|were|of|came to|:|[$€£\d])")  # a profit given
CHANGE_WORDS = cue(r"\b(from .* to|grew|grow|rose|rise|risen|went up|went down|increas\w*|decreas\w*|growth|chang\w*|"
                   r"gain\w*|fell|fall|drop\w*|declin\w*|jump\w*|climb\w*)\b")
SHARE_OF = cue(r"\b(of|out of|churn|rate|margin|mark-?up|share|proportion|fraction|portion)\b")


@reader
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
    elif re.search(r"\b(every|each|per|an?)\s+(hour|minute|day|week|month|year)\b", value, re.I) and a.end in quantities:
        unit = re.search(r"\b(?:every|each|per|an?)\s+(hour|minute|day|week|month|year)\b", value, re.I).group(1)
        factor = _same(quantities[a.end], unit)
        if factor is None:
            return False
        return _share(out, a.value * factor, 1.0, f"{shown(a)} {quantities[a.end]} of each {unit}", [a.value])
    a_value, b_value = a.value * fa, b.value * fb
    if MARKUP.search(value) and COST.search(value):
        cost, price = sorted((a_value, b_value))
        return _share(out, price - cost, cost, f"markup from {format_number(cost)} to {format_number(price)}",
                      [cost, price], f"({price} - {cost}) / {cost} * 100", "markup")
    if MARGIN.search(value) and COST.search(value) and not PROFIT.search(value):
        cost, revenue = sorted((a_value, b_value))
        return _share(out, revenue - cost, revenue, f"margin on {format_number(revenue)} with costs of "
                      f"{format_number(cost)}", [cost, revenue], f"({revenue} - {cost}) / {revenue} * 100", "margin")
    part, whole = sorted((a_value, b_value))
    return _share(out, part, whole, f"{format_number(part)} as a share of {format_number(whole)}", [part, whole])


def _share(out: Analysis, part: float, whole: float, label: str, inputs: list[float], expression: str = "",
           kind: str = "share") -> bool:
    if not whole:
        return False
    add(out, label, expression or f"{part} / {whole} * 100", part / whole * 100, inputs, kind, unit="%")
    return True


# --- chained percentages ------------------------------------------------------------------------------
SPAN_AFTER = compiled(r"\s+(?:years?|months?|quarters?|weeks?|days?|steps?|times)\b")
CHAIN_NOUN = compiled(r"\s*(?:sales\s+)?(off|discount|tax|vat|tip|markup|surcharge|increase|decrease|rise|drop|cut)\b")
CHAIN = cue(r"\b(then|another|further|followed by|after that|on top|combined|cumulative|overall|compounded|in total|net|"
            r"the next|the following|total (?:increase|change|growth|rise|decrease)|"
            r"and (?:then )?(?:dropped|fell|grew|rose|gained|lost))\b")


@reader
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
        window = after.group(0) if after else value[start:pct.start]
        up, down = bool(UP.search(window)), bool(DOWN.search(window))
        if up == down:
            if re.search(r"\b(another|further|again|and|then)\b", window, re.I) and previous_up is not None:
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
        add(out, f"{shown(base)} after {', then '.join(steps)}", f"{base.value} * {expression}",
            base.value * factor, [base.value, *inputs], "chain", base.currency)
    else:
        change = (factor - 1) * 100
        add(out, f"the net change after {', then '.join(steps)}", f"({expression} - 1) * 100", abs(change),
            inputs, "chain", unit="%", note=f"({'an increase' if change >= 0 else 'a decrease'})")
    return True


# --- fractions, products, what is left, and a change between two stated figures ------------------
FRACTION_WORDS = {"half": 0.5, "a half": 0.5, "one half": 0.5, "a third": 1 / 3, "one third": 1 / 3,
                  "a quarter": 0.25, "one quarter": 0.25, "2 thirds": 2 / 3, "two thirds": 2 / 3,
                  "3 quarters": 0.75, "three quarters": 0.75}
FRACTION_OF = compiled(r"\b(\d+)\s*/\s*(\d+)\s+of\b|\b(" + "|".join(FRACTION_WORDS) + r")\s+of\b")
FRACTION_AS_PERCENT = compiled(r"\b(\d+)\s*/\s*(\d+)\s+(?:as|in|to)\s+(?:an?\s+)?(?:percent\w*|%)")


@reader
def fractions(text: Text, out: Analysis) -> bool:
    value = text.value
    found = [money(m, value) for m in numbers(value)]
    if match := FRACTION_AS_PERCENT.search(value):
        a, b = float(match.group(1)), float(match.group(2))
        if len(found) == 2 and b:
            add(out, f"{match.group(1)}/{match.group(2)} as a percentage", f"{a} / {b} * 100", a / b * 100,
                [a, b], "share", unit="%")
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
    add(out, f"{said} of {shown(amount)}", f"{fraction!r} * {amount.value}", fraction * amount.value,
        [*inputs, amount.value], "share", amount.currency)
    return True


PRICE_EACH = cue(r"[$€£]\s?\d[\d,]*(?:\.\d+)?\s*(?:each|apiece|a piece|per (?:item|ticket|person|head|unit|one))\b"
                 r"|\bat\s+[$€£]\s?\d[\d,]*(?:\.\d+)?(?:\s+(?:each|apiece))?")
OF_COUNT = compiled(r"(\d+)\s+(?:[a-z]+\s+){1,2}?of\s+(\d+)\s+[a-z]+")
BY = compiled(rf"(\d+(?:\.\d+)?)\s*({units.UNIT_PATTERN})\s+(?:by|x|×)\s+(\d+(?:\.\d+)?)\s*({units.UNIT_PATTERN})")
PER_UNIT_PRICE = compiled(rf"([{CURRENCY_SIGNS}]\s?\d[\d,]*(?:\.\d+)?|\d+(?:\.\d+)?\s+cents)\s+(?:a|an|per|each|/)\s+"
                          rf"({units.UNIT_PATTERN}|kwh|\w+)")
FEE = cue(r"\b(?:plus|\+|and)\s+(?:an?\s+)?[$€£]")
TOTAL_WORDS = cue(r"\b(total|how much|cost|pay|bill|altogether|in all|how many|fill|spend|spent|owe|budget|comes? to)")


@reader
def products(text: Text, out: Analysis) -> bool:
    """"4 tickets at $12.50 each", "3 boxes of 12 eggs", "4 m by 5 m", "$3.80 a gallon ... 14 gallons"."""
    value = text.value
    found = [money(m, value) for m in numbers(value)]
    if any(m.percent for m in found) or not TOTAL_WORDS.search(value) and not BY.search(value):
        return False
    if (by := BY.search(value)) and len(found) == 2:
        ua, ub = units.find_unit(by.group(2)), units.find_unit(by.group(4))
        if ua and ub and ua is ub and ua.dimension == "[length]":
            a, b = float(by.group(1)), float(by.group(3))
            add(out, f"{by.group(1)} {by.group(2)} by {by.group(3)} {by.group(4)}", f"{a} * {b}", a * b, [a, b],
                "product", unit=f" square {ua.name}")
            return True
        return False
    if (rate := PER_UNIT_PRICE.search(value)) and len(found) == 2:
        price = next((m for m in found if rate.start(1) <= m.start < rate.end(1) or m.end == rate.end(1)), None)
        if price is None:
            return False
        count = next(m for m in found if m is not price)
        after = re.match(rf"\s*({units.UNIT_PATTERN}|kwh|\w+)", value[count.end:], re.I)
        factor = _same(after.group(1).lower(), rate.group(2).lower()) if after else None
        if count.currency or factor is None:
            return False
        add(out, f"{shown(price)} per {rate.group(2)} for {shown(count)} {after.group(1)}",
            f"{price.value} * {count.value} * {factor:g}", price.value * count.value * factor,
            [price.value, count.value], "product", price.currency)
        return True
    prices = [m for m in found if m.currency]
    counts = [m for m in found if not m.currency]
    fee = FEE.search(value)
    if PRICE_EACH.search(value) and len(counts) == 1 and len(prices) in (1, 2) and (len(prices) == 1 or fee):
        price, count = prices[0], counts[0]
        total = price.value * count.value
        expression, inputs = f"{price.value} * {count.value}", [price.value, count.value]
        label = f"{shown(count)} at {shown(price)} each"
        if len(prices) == 2:
            extra = prices[1]
            if extra.start < fee.start():
                return False
            total, expression = total + extra.value, f"{expression} + {extra.value}"
            inputs.append(extra.value)
            label += f", plus {shown(extra)}"
        add(out, label, expression, total, inputs, "product", price.currency)
        return True
    of = OF_COUNT.search(value)
    holds = re.search(r"\b(holds?|contains?|has|have|fits?|carries|in each|per)\b", value, re.I)
    if len(found) == 2 and not prices and holds and re.search(r"\bhow many\b", value, re.I) and not of:
        a, b = found  # "A box holds 24 pencils. How many pencils are in 15 boxes?"
        add(out, f"{shown(a)} {holds.group(1)} each, times {shown(b)}", f"{a.value} * {b.value}", a.value * b.value,
            [a.value, b.value], "product")
        return True
    if of and len(found) == 2 and not prices and re.search(r"\bhow many\b", value, re.I):
        a, b = float(of.group(1)), float(of.group(2))
        add(out, of.group(0).strip(), f"{a} * {b}", a * b, [a, b], "product")
        return True
    joint = re.search(r"\b\w+-(days|hours|weeks|months)\b", value, re.I)
    if joint and len(found) == 2 and not prices:
        a, b = found
        add(out, f"{shown(a)} times {shown(b)} ({joint.group(0)})", f"{a.value} * {b.value}", a.value * b.value,
            [a.value, b.value], "product")
        return True
    return False


def two_amounts(value: str) -> list[Mention]:
    """The request's two plain amounts (no percentage), or none when it has another count of numbers."""
    found = [money(m, value) for m in numbers(value)]
    return found if len(found) == 2 and not any(m.percent for m in found) else []


LEFT = cue(r"\b(left|remain\w*|still have|leftover|balance)\b")
SPENT = cue(r"\b(spent|spend|used|paid|gave|give|given|lost|withdr[ae]w\w*|took out|sold|ate)\b")


@reader
def remainder(text: Text, out: Analysis) -> bool:
    value = text.value
    found = two_amounts(value)
    if not found or not (LEFT.search(value) and SPENT.search(value)):
        return False
    a, b = sorted(found, key=lambda m: -m.value)  # "withdrew $180 from $1,000" and "had $1,000, spent $180"
    add(out, f"{shown(a)} less {shown(b)}", f"{a.value} - {b.value}", a.value - b.value, [a.value, b.value],
        "difference", a.currency or b.currency)
    return True


CHANGE_CUE = cue(r"\b(increase|decrease|growth|grow|grew|gain|rise|rose|fall|fell|drop\w*|change|decline)\b")
PERCENT_ASKED = cue(r"%|\b(percent\w*|per cent|rate|relative|growth)\b")


@reader
def change_between_figures(text: Text, out: Analysis) -> bool:
    """"Sales were 4,000 units in 2021 and 5,000 units in 2022: the increase?": the earlier one first."""
    value = text.value
    found = two_amounts(value)
    if not found or not CHANGE_CUE.search(value):
        return False
    if re.search(r"\bfrom\b[^.?!]*\bto\b", value, re.I) or re.search(r"\b(over|for|in|after)\s+\d", value, re.I):
        return False  # "from a to b" and "over n years" are read by the change and growth readers
    a, b = found
    currency = a.currency or b.currency
    if PERCENT_ASKED.search(value):
        if not a.value:
            return False
        change = (b.value - a.value) / a.value * 100
        add(out, f"change from {shown(a)} to {shown(b)}", f"({b.value} - {a.value}) / {a.value} * 100", abs(change),
            [a.value, b.value], "change", unit="%", note=f"({'an increase' if change >= 0 else 'a decrease'})")
    else:
        change = b.value - a.value
        add(out, f"change from {shown(a)} to {shown(b)}", f"{b.value} - {a.value}", abs(change), [a.value, b.value],
            "change", currency, note=f"({'an increase' if change >= 0 else 'a decrease'})")
    return True


CONVERT_ASK = compiled(rf"\b(?:how (?:far|much|many|long|heavy|big|fast)|what(?:'s| is)|convert)\b[^.?!]*?"
                       rf"\b(?:in|into|to|as)\s+({units.UNIT_PATTERN})\s*[?.!]*\s*$")


@reader
def conversion_asked_after(text: Text, out: Analysis) -> bool:
    """"A marathon is 26.2 miles. How far is that in kilometres?": one measure, converted."""
    value = text.value
    quantities, found = _quantities(value), numbers(value)
    asked = CONVERT_ASK.search(value)
    if not asked or len(quantities) != 1 or len(found) != 1:
        return False
    (m, unit), target = quantities[0], asked.group(1)
    before = len(out.computations)
    _convert(m, unit, target, out)
    return len(out.computations) > before


TRAVEL_FAR = cue(r"\b(how far|distance|how many (?:km|kilomet\w+|miles|metres|meters))\b")
TRAVEL_LONG = cue(r"\b(how long|how much time|how many (?:hours|minutes))\b")


@reader
def travel(text: Text, out: Analysis) -> bool:
    """"How far in 2 hours at 65 mph?" (speed times time), "How long is 90 km at 60 km/h?" (distance over speed)."""
    value = text.value
    quantities, found = _quantities(value), numbers(value)
    if len(quantities) != 2 or len(found) != 2:
        return False
    speed = next(((m, u) for m, u in quantities if units.find_unit(u) and
                  units.find_unit(u).dimension == "[length] / [time]"), None)
    other = next(((m, u) for m, u in quantities if speed is None or m is not speed[0]), None)
    if speed is None or other is None or not units.find_unit(other[1]):
        return False
    (v, vu), (q, qu) = speed, other
    v_unit, q_unit = units.find_unit(vu), units.find_unit(qu)
    if q_unit.dimension == "[time]" and TRAVEL_FAR.search(value):
        per_hour = v_unit.factor * 3600  # metres an hour
        distance_unit = "miles" if v_unit.name == "mph" else "kilometres"
        to_unit = units.find_unit(distance_unit).factor
        hours = q.value * q_unit.factor / 3600
        add(out, f"{format_number(hours)} hours at {format_number(v.value)} {vu}",
            f"{v.value} * {q.value} * {q_unit.factor / 3600:g}", v.value * per_hour / 3600 * q.value * q_unit.factor
            / to_unit, [v.value, q.value], "travel", unit=f" {distance_unit}")
        return True
    if q_unit.dimension == "[length]" and TRAVEL_LONG.search(value):
        hours = q.value * q_unit.factor / (v.value * v_unit.factor) / 3600
        add(out, f"{format_number(q.value)} {qu} at {format_number(v.value)} {vu}",
            f"({q.value} * {q_unit.factor:g}) / ({v.value} * {v_unit.factor:g}) / 3600", hours, [v.value, q.value],
            "travel", unit=" hours")
        return True
    return False


# --- growth or decline per period, whatever the order of its parts --------------------------------
PER_PERIOD = cue(r"\b(?:a|per|each|every)\s+(year|month|quarter|week|day)\b|\b(annual(?:ly)?|yearly|monthly|quarterly)\b")
SPAN_OF = compiled(r"\b(?:in|after|over|for|within)\s+(\d+(?:\.\d+)?)\s+(years?|months?|quarters?|weeks?|days?)\b")
GROWS = cue(r"\b(grow\w*|grew|rise\w*|rising|increas\w*|gain\w*|earn\w*|interest|invest\w*|return\w*|appreciat\w*|"
            r"deposit\w*|sav(e|es|ing|ings))\b")
SHRINKS = cue(r"\b(shrink\w*|los(e|es|ing)|fall\w*|declin\w*|depreciat\w*|drop\w*|decreas\w*)\b")
INTEREST_ASKED = cue(r"\bhow much (?:interest|will i earn|do i earn|will it earn|is earned|gain)")
PERIOD_NAMES = {"annual": "year", "annually": "year", "yearly": "year", "monthly": "month", "quarterly": "quarter"}


@reader
def growth_by_roles(text: Text, out: Analysis) -> bool:
    """"A car loses 15% of its value each year. It's worth $20,000 now. What in 3 years?": an amount, a rate
    per period and a number of periods, in any order."""
    value = text.value
    if re.search(r"\b(simple interest|compounded)\b", value, re.I) or LOAN.search(value):
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
    if up == down:
        return False
    base, rate, n = rest[0], pcts[0].value * (1 if up else -1), float(span.group(1))
    if not -100 < rate or n > 1000:
        return False
    final = base.value * (1 + rate / 100) ** n
    expression = f"{base.value} * (1 + {rate} / 100) ** {n}"
    way = "growing" if up else "falling"
    if INTEREST_ASKED.search(value) and up:
        add(out, f"interest on {shown(base)} at {shown(pcts[0])} a {period} over {format_number(n)} {period}s",
            f"{expression} - {base.value}", final - base.value, [base.value, pcts[0].value, n], "growth", base.currency)
        return True
    add(out, f"{shown(base)} {way} {shown(pcts[0])} a {period} for {format_number(n)} {period}s", expression, final,
        [base.value, pcts[0].value, n], "growth", base.currency)
    return True
