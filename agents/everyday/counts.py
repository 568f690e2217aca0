"""Readers of counts and amounts: products ("4 tickets at $12.50 each"), an amount scaled from one count
to another, and what is left."""

from __future__ import annotations

import re

from agents import units
from agents.calculator import format_number
from agents.everyday.common import (
    _quantities,
    _same,
    add,
    amounts,
    cue,
    money,
    money_value,
    numbers,
    percents,
    two_amounts,
)
from agents.numbers import CURRENCY as CURRENCY_SIGNS
from agents.word_problems import Analysis, Text, compiled, shown

PRICE_EACH = cue(
    r"[$€£]\s?\d[\d,]*(?:\.\d+)?\s*(?:each|apiece|a piece|per (?:item|ticket|person|head|unit|one))\b"
    r"|\bat\s+[$€£]\s?\d[\d,]*(?:\.\d+)?(?:\s+(?:each|apiece))?"
)
OF_COUNT = compiled(r"(\d+)\s+(?:[a-z]+\s+){1,2}?of\s+(\d+)\s+[a-z]+")
BY = compiled(rf"(\d+(?:\.\d+)?)\s*({units.UNIT_PATTERN})\s+(?:by|x|×)\s+(\d+(?:\.\d+)?)\s*({units.UNIT_PATTERN})")
PER_UNIT_PRICE = compiled(
    rf"([{CURRENCY_SIGNS}]\s?\d[\d,]*(?:\.\d+)?|\d+(?:\.\d+)?\s+cents)\s+(?:a|an|per|each|/)\s+"
    rf"({units.UNIT_PATTERN}|kwh|\w+)"
)
FEE = cue(r"\b(?:plus|\+|and)\s+(?:an?\s+)?[$€£]")
TOTAL_WORDS = cue(
    r"\b(total|how much|cost|pay|bill|altogether|in all|how many|fill|spend|spent|owe|budget|comes? to|"
    r"revenue|sales|takings|turnover|bring in|brought in|take in|took in|gross)"
)
ITEMS_AT = compiled(
    r"\b(\d+)\s+(?:[a-z]+\s+){1,4}?(?:for|at|@|costing)\s+([$€£]\s?\d[\d,]*(?:\.\d+)?)\s*"
    r"(?:each|apiece|a piece|per \w+|a pop|a pair)?"
)


def products(text: Text, out: Analysis) -> bool:
    """ "4 tickets at $12.50 each", "3 boxes of 12 eggs", "4 m by 5 m", "$3.80 a gallon ... 14 gallons"."""
    value = text.value
    found = [money(m, value) for m in numbers(value)]
    if any(m.percent for m in found) or not TOTAL_WORDS.search(value) and not BY.search(value):
        return False
    if (by := BY.search(value)) and len(found) == 2:
        ua, ub = units.find_unit(by.group(2)), units.find_unit(by.group(4))
        if ua and ub and ua is ub and ua.dimension == "[length]":
            width, length = float(by.group(1)), float(by.group(3))
            add(
                out,
                f"{by.group(1)} {by.group(2)} by {by.group(3)} {by.group(4)}",
                f"{width} * {length}",
                width * length,
                [width, length],
                "product",
                unit=f" square {ua.name}",
            )
            return True
        return False
    if (rate := PER_UNIT_PRICE.search(value)) and len(found) == 2:
        price = next((m for m in found if rate.start(1) <= m.start < rate.end(1) or m.end == rate.end(1)), None)
        if price is None:
            return False
        count = next(m for m in found if m is not price)
        after = re.match(rf"\s*({units.UNIT_PATTERN}|kwh|\w+)", value[count.end :], re.IGNORECASE)
        factor = _same(after.group(1).lower(), rate.group(2).lower()) if after else None
        if count.currency or factor is None or after is None:
            return False
        add(
            out,
            f"{shown(price)} per {rate.group(2)} for {shown(count)} {after.group(1)}",
            f"{price.value} * {count.value} * {factor:g}",
            price.value * count.value * factor,
            [price.value, count.value],
            "product",
            price.currency,
        )
        return True
    prices = [m for m in found if m.currency]
    counts = [m for m in found if not m.currency]
    items = ITEMS_AT.findall(value)
    if len(items) >= 2 and len(items) * 2 == len(found) and len(prices) == len(items):
        total = sum(float(n) * money_value(p) for n, p in items)  # "3 shirts at $22 each and 2 jeans at $45 each"
        add(
            out,
            ", ".join(f"{n} at {p.strip()}" for n, p in items),
            " + ".join(f"{n} * {money_value(p)}" for n, p in items),
            total,
            [v for n, p in items for v in (float(n), money_value(p))],
            "product",
            prices[0].currency,
        )
        return True
    fee = FEE.search(value)
    if PRICE_EACH.search(value) and len(counts) == 1 and len(prices) in (1, 2) and (len(prices) == 1 or fee):
        price, count = prices[0], counts[0]
        total = price.value * count.value
        expression, inputs = f"{price.value} * {count.value}", [price.value, count.value]
        label = f"{shown(count)} at {shown(price)} each"
        if len(prices) == 2:
            extra = prices[1]
            if fee is None or extra.start < fee.start():
                return False
            total, expression = total + extra.value, f"{expression} + {extra.value}"
            inputs.append(extra.value)
            label += f", plus {shown(extra)}"
        add(out, label, expression, total, inputs, "product", price.currency)
        return True
    of = OF_COUNT.search(value)
    holds = re.search(r"\b(holds?|contains?|has|have|fits?|carries|in each|per\b(?!\s+\d))", value, re.IGNORECASE)
    if len(found) == 2 and not prices and holds and re.search(r"\bhow many\b", value, re.IGNORECASE) and not of:
        a, b = found  # "A box holds 24 pencils. How many pencils are in 15 boxes?"
        add(
            out,
            f"{shown(a)} {holds.group(1)} each, times {shown(b)}",
            f"{a.value} * {b.value}",
            a.value * b.value,
            [a.value, b.value],
            "product",
        )
        return True
    if of and len(found) == 2 and not prices and re.search(r"\bhow many\b", value, re.IGNORECASE):
        groups, each = float(of.group(1)), float(of.group(2))
        add(out, of.group(0).strip(), f"{groups} * {each}", groups * each, [groups, each], "product")
        return True
    joint = re.search(r"\b\w+-(days|hours|weeks|months)\b", value, re.IGNORECASE)
    if joint and len(found) == 2 and not prices:
        a, b = found
        add(
            out,
            f"{shown(a)} times {shown(b)} ({joint.group(0)})",
            f"{a.value} * {b.value}",
            a.value * b.value,
            [a.value, b.value],
            "product",
        )
        return True
    return False


SERVES = compiled(
    r"\b(?:for|serves|feeds|makes|yields)\s+(\d+)(?:\s+(?:people|persons|servings|portions|guests|of us))?\b"
    r"(?!\s*(?:%|[$€£]|[a-z]+\s+(?:of|per)\b))"
)
SCALED_ASK = cue(r"\bhow (?:much|many)\b[^.?!]*\bfor\s+(\d+)\b")


def scaling(text: Text, out: Analysis) -> bool:
    """ "A recipe for 4 needs 300 g flour. How much for 6 people?": an amount scaled from one count to another."""
    value = text.value
    asked = SCALED_ASK.search(value)
    given = next((m for m in SERVES.finditer(value) if not asked or m.start(1) != asked.start(1)), None)
    found = [money(m, value) for m in numbers(value)]
    if not asked or not given or len(found) != 3:
        return False
    old = next(m for m in found if m.end == given.end(1))
    new = next(m for m in found if m.end == asked.end(1))
    amount = next((m for m in found if m is not old and m is not new), None)
    if amount is None or amount.percent or not old.value or amount.start > asked.start(1):
        return False
    quantity = next((u for m, u in _quantities(value) if m.end == amount.end), "")
    add(
        out,
        f"{shown(amount)}{' ' + quantity if quantity else ''} for {format_number(old.value)}, scaled to "
        f"{format_number(new.value)}",
        f"{amount.value} * {new.value} / {old.value}",
        amount.value * new.value / old.value,
        [amount.value, old.value, new.value],
        "scaled",
        amount.currency,
        unit=f" {quantity}" if quantity else "",
        note="(in proportion to the count)",
    )
    return True


LEFT = cue(r"\b(left|remain\w*|still have|leftover|balance)\b")
SPENT = cue(r"\b(spent|spend|used|paid|gave|give|given|lost|withdr[ae]w\w*|took out|sold|ate)\b")


def remainder(text: Text, out: Analysis) -> bool:
    value = text.value
    found = two_amounts(value)
    if not (LEFT.search(value) and SPENT.search(value)):
        return False
    if not found:
        return _share_left(value, out)
    a, b = sorted(found, key=lambda m: -m.value)  # "withdrew $180 from $1,000" and "had $1,000, spent $180"
    add(
        out,
        f"{shown(a)} less {shown(b)}",
        f"{a.value} - {b.value}",
        a.value - b.value,
        [a.value, b.value],
        "difference",
        a.currency or b.currency,
    )
    return True


def _share_left(value: str, out: Analysis) -> bool:
    """ "Our budget is $5,000 and we've spent 65%. How much is left?"."""
    found = [money(m, value) for m in numbers(value)]
    pcts, rest = percents(found), amounts(found)
    if len(pcts) != 1 or len(rest) != 1 or not 0 <= pcts[0].value <= 100:
        return False
    whole, pct = rest[0], pcts[0]
    add(
        out,
        f"{shown(whole)} less {shown(pct)} of it",
        f"{whole.value} * (1 - {pct.value} / 100)",
        whole.value * (1 - pct.value / 100),
        [whole.value, pct.value],
        "difference",
        whole.currency,
    )
    return True
