"""Readers of money questions: tips and splits, the figure before a change, a tax or discount stated
apart from its amount, percentage points, loan payments and pay per period."""

from __future__ import annotations

import re

from agents.calculator import format_number
from agents.everyday.common import add, amounts, cue, money, numbers, percents
from agents.word_problems import Analysis, Text, compiled, shown

# --- tips, and bills split with or without one ------------------------------------------------------
TIP = cue(r"\b(tip|tips|tipping|gratuity|service charge)\b")
TIP_INCLUDED = r"\b(?:includ\w*|incl|with|after)\s+(?:the\s+|a\s+)?(?:tip|gratuity|service)"
TIP_ASKED = cue(rf"^(?!.*{TIP_INCLUDED}).*{TIP.pattern}")  # "$312 including tip" asks for no tip
PEOPLE = cue(
    r"(\d+(?:\.\d+)?)\s*(?:people|persons|friends|guests|diners|colleagues|roommates|flatmates|housemates|"
    r"kids|children|players|members|ways|of us|of them|at the table)\b|\beach of\s+(\d+)\b"
    r"|\b(?:for|party of|table of)\s+(\d+)\b(?!\s*(?:%|[a-z]+\b(?<!came)(?<!was)(?<!is)))"
    r"|\b(?:group|party|table|family|team|household) of\s+(\d+)\b"
    r"|\b(?:between|among|amongst|by|across|into|we're|we are|there are|party of)\s+(\d+)\b(?!\s*[%$€£])"
)
SPLIT_ASKED = cue(
    r"\b(split|divid\w*|shar\w*|each|per person|per head|apiece|everyone|every one|everybody|ways|owe|"
    r"chip in|contribute|put in)\b"
)
TOTAL_ASKED = cue(
    r"\b(total|altogether|in all|all in|come to|comes to|we pay|i pay|do we pay|do i pay|"
    r"each|per person|per head|apiece|share|everyone|every one|split)\b"
)


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
    if tipped and not pcts and re.search(TIP_INCLUDED, value, re.IGNORECASE):
        tipped = None  # "$312 including tip": the tip is in the bill already
    if len(bills) != 1 or len(pcts) > 1 or (tipped and len(pcts) != 1) or (not tipped and pcts):
        return False
    if not tipped and not (people and SPLIT_ASKED.search(value)):
        return False
    bill = bills[0]
    total, total_expr = bill.value, f"{bill.value}"
    if tipped:
        pct = pcts[0]
        tip = bill.value * pct.value / 100
        add(
            out,
            f"{shown(pct)} tip on {shown(bill)}",
            f"{pct.value} / 100 * {bill.value}",
            tip,
            [pct.value, bill.value],
            "tip",
            bill.currency,
        )
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
        add(
            out,
            f"each of {format_number(people.value)} people pays",
            f"{total_expr} / {people.value}",
            total / people.value,
            [total, people.value],
            "split",
            bill.currency,
        )
    return True


# --- reverse percentages: the figure before a rise, a discount or a tax --------------------------
BEFORE = cue(
    r"\b(before|original(?:ly)?|old|previous(?:ly)?|full price|beforehand|pre-?(?:tax|vat|discount|sale)"
    r"|without (?:the )?(?:tax|vat|discount)|excluding|ex[- ]vat|net of|to start|at first|used to|"
    r"start(?:ed)?(?: at| with)?|initial(?:ly)?|regular price|list price|"
    r"(?:more|less|higher|lower|cheaper|above|below) than (?:the |what |they |we |i |you )?\w+ (?:paid|was|were|cost))\b"
)
UP = cue(
    r"\b(up|add|adds|added|adding|plus|rose|rise[ns]?|raised?|increas\w*|grew|grow\w*|gain\w*|climb\w*|jump\w*|tax|vat|"
    r"including|incl|markup|marked up|more|higher)\b"
)
DOWN = cue(
    r"\b(down|fell|fall\w*|drop\w*|declin\w*|decreas\w*|cut|off|discount\w*|sale|reduc\w*|lost|"
    r"los[es]\w*|shr[ai]nk\w*|less|lower|cheaper)\b"
)


def reverse_percentages(text: Text, out: Analysis) -> bool:
    value = text.value
    found = numbers(value)
    pcts, rest = percents(found), [money(m, value) for m in amounts(found)]
    if len(pcts) != 1 or len(rest) != 1 or not BEFORE.search(value):
        return False
    pct, now = pcts[0], rest[0]
    if re.search(r"\bthan\s+(?:the\s+)?[$€£]?\s?\d", value, re.IGNORECASE):
        return False  # "15% more than $300" is forward
    up, down = bool(UP.search(value)), bool(DOWN.search(value))
    if up == down or (not up and pct.value >= 100):
        return False  # which way it moved is unclear: leave it
    factor = f"(1 + {pct.value} / 100)" if up else f"(1 - {pct.value} / 100)"
    before = now.value / (1 + pct.value / 100 if up else 1 - pct.value / 100)
    way = "a rise" if up else "a fall"
    add(
        out,
        f"the figure before {way} of {shown(pct)} to {shown(now)}",
        f"{now.value} / {factor}",
        before,
        [now.value, pct.value],
        "reverse",
        now.currency,
    )
    return True


# --- a rate of tax or discount stated apart from the amount it applies to ----------------------------
ADDED_RATE = cue(
    r"\b(?:sales\s+)?(tax|vat|gst|surcharge|service charge|markup|raise|pay rise|rise|increase)\s+(?:rate\s+)?"
    r"(?:is|of|at|was|will be|comes to)\s+\d"
)
TAKEN_RATE = cue(
    r"\b(discount|markdown|reduction|cut|coupon)\s+(?:rate\s+)?(?:is|of|at|was|will be)\s+\d"
    r"|\b(?:is|are)\s+\d[\d.]*\s?%\s+off\b"
)
INCLUDED = cue(r"\b(includ\w*|incl|inclusive|with tax|after tax|ex|excluding|before)\b")
APPLIED_ASKED = cue(r"\b(total|final|altogether|in all|all in|pay|cost|costs|price|come to|comes to|new|now|end up)\b")
RATE_AMOUNT_ASKED = cue(
    r"\bhow much (?:is|was|will be|would be|are) (?:the |my |our )?(tax|vat|gst|discount|raise|"
    r"increase|surcharge|saving)\b|\bhow much (tax|vat|gst|discount)\b|\bhow much (?:do|will|would) (?:i|we) save\b"
)


def rate_applied(text: Text, out: Analysis) -> bool:
    """ "A shirt costs $25 and sales tax is 7%: the total?", "the discount is 15% on a $80 jacket"."""
    value = text.value
    found = [money(m, value) for m in numbers(value)]
    pcts, rest = percents(found), amounts(found)
    up, down = ADDED_RATE.search(value), TAKEN_RATE.search(value)
    if len(pcts) != 1 or len(rest) != 1 or bool(up) == bool(down) or INCLUDED.search(value):
        return False
    base, pct = rest[0], pcts[0]
    share = base.value * pct.value / 100
    matched = up or down
    assert matched is not None  # exactly one of them matched: checked above
    name = matched.group(1) or "discount"
    if RATE_AMOUNT_ASKED.search(value):
        add(
            out,
            f"{shown(pct)} {name.lower()} on {shown(base)}",
            f"{base.value} * {pct.value} / 100",
            share,
            [base.value, pct.value],
            "discount" if down else "tax",
            base.currency,
        )
        return True
    if not APPLIED_ASKED.search(value) or (down and pct.value > 100):
        return False
    total = base.value + share if up else base.value - share
    add(
        out,
        f"{shown(base)} {'plus' if up else 'less'} {shown(pct)} {name.lower()}",
        f"{base.value} * (1 {'+' if up else '-'} {pct.value} / 100)",
        total,
        [base.value, pct.value],
        "total",
        base.currency,
    )
    return True


# --- percentage points against percent ----------------------------------------------------------------
POINTS_PAIR = cue(r"\bfrom\s+(-?\d+(?:\.\d+)?)\s?%\s+(?:\w+\s+){0,3}?to\s+(-?\d+(?:\.\d+)?)\s?%")


def percentage_points(text: Text, out: Analysis) -> bool:
    value = text.value
    match = POINTS_PAIR.search(value)
    if not match or len(numbers(value)) != 2:
        return False
    a, b = float(match.group(1)), float(match.group(2))
    change = b - a
    way = "rise" if change >= 0 else "fall"
    add(
        out,
        f"the {way} from {match.group(1)}% to {match.group(2)}% in percentage points",
        f"abs({b} - {a})",
        abs(change),
        [a, b],
        "points",
        unit=" percentage points",
    )
    if a:
        add(
            out,
            f"the {way} from {match.group(1)}% to {match.group(2)}% in percent (relative)",
            f"abs({b} - {a}) / {a} * 100",
            abs(change) / abs(a) * 100,
            [a, b],
            "change",
            unit="%",
        )
    return True


# --- loans and mortgages: the payment (amortisation) and the interest -------------------------------
LOAN = cue(
    r"\b(loan|loans|mortgage|borrow\w*|financ\w*|repay\w*|instal+ments?|amorti[sz]\w*|car payment|"
    r"monthly payments?|pay(?:ing)? off|apr)\b"
)
TERM = cue(r"(\d+(?:\.\d+)?)[\s-]*(years?|yrs?|months?|mos?)\b")


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
    add(
        out,
        f"monthly payment on {shown(principal)} at {shown(rate)} a year over {format_number(n)} months",
        expression,
        payment,
        inputs,
        "payment",
        cur,
    )
    add(
        out,
        f"total interest over the {format_number(n)} months",
        f"{expression} * {n} - {principal.value}",
        payment * n - principal.value,
        inputs,
        "interest",
        cur,
    )
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


def pay(text: Text, out: Analysis) -> bool:
    value = text.value
    paid = bool(PAY.search(value))
    found = [money(m, value) for m in numbers(value)]
    if len(found) != 1 or found[0].percent:
        return False
    amount = found[0]
    said = [(match.start(), name) for name, pattern in PERIOD_OF.items() for match in pattern.finditer(value)]
    said.sort()
    if not said and re.search(r"\bsalary\b", value, re.IGNORECASE):
        said = [(amount.start, "year")]
    source = next(
        (name for at, name in said if at >= amount.end and ADJACENT.fullmatch(value[amount.end : at])), None
    ) or next((name for at, name in said if at < amount.start and amount.start - at < 25), None)  # "hourly rate is $42"
    if source is None and (
        re.search(r"\bannual\b", value[: amount.start], re.IGNORECASE) or re.search(r"\bsalary\b", value, re.IGNORECASE)
    ):
        source = "year"
    targets = list(dict.fromkeys(name for at, name in said if name != source))  # "Per month, how much is $39k a year?"
    if not source or len(targets) != 1 or not amount.currency:
        return False
    target = targets[0]
    if not paid and {source, target} & {"hour", "day"}:
        return False  # money per hour or day without pay counts all hours, or working ones: unclear
    factor = WORK_HOURS[source] / WORK_HOURS[target]
    note = (
        "(taking a working year of 2,080 hours: 40 hours a week for 52 weeks)"
        if "hour" in (source, target) or "day" in (source, target)
        else "(taking 52 weeks a year)"
        if "week" in (source, target)
        else ""
    )
    add(
        out,
        f"{shown(amount)} a {source}{' as pay' if paid else ''} per {target}",
        f"{amount.value} * {WORK_HOURS[source]} / {WORK_HOURS[target]}",
        amount.value * factor,
        [amount.value],
        "wage",
        amount.currency,
        note=note,
    )
    return True
