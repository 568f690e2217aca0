"""Readers of measures: a rate of one quantity per another, conversions asked after the figure (also
in two units, "5 ft 10 in"), fuel economy, travel, and the time a job at a rate takes."""

from __future__ import annotations

import re

from agents import units
from agents.calculator import format_number
from agents.everyday.common import SCALE_OF_ASK, _quantities, _same, add, cue, money, numbers
from agents.numbers import Mention
from agents.word_problems import Analysis, Text, _convert, compiled, shown

PER_ASK = compiled(
    rf"(?:how many\s+)?({units.UNIT_PATTERN}|kwh|\w+)\s+(?:per|a|an|each|every|/)\s+(?:(\d+)\s+)?"
    rf"({units.UNIT_PATTERN}|\w+)"
)
PRICE_ASK = cue(r"\b(price|cost|costs|what|how much)\b[^.?!]*?\b(?:per|a|an|each|/)\s+(?:(\d+)\s+)?(\w+)")
LAST_PER = cue(r"()\b(?:per|each|a)\s+(?:(\d+)\s+)?(\w+)\s*[?.!]*\s*$")
SPEED_ASK = cue(r"\b(average speed|how fast|speed)\b")
DAILY = {"daily": "day", "weekly": "week", "monthly": "month", "hourly": "hour", "yearly": "year"}


def unit_rates(text: Text, out: Analysis) -> bool:
    """ "420 km on 35 litres: km per litre?", "$8.75 for 2.5 kg: price per kg?", "300 km in 2.5 hours"."""
    value = text.value
    quantities = _quantities(value)
    found = [money(m, value) for m in numbers(value)]
    scaled = {match.end(1) for match in SCALE_OF_ASK.finditer(value)}
    found = [m for m in found if m.end not in scaled]
    prices = [m for m in found if m.currency]
    pack = re.search(r"(\d+)[\s-]*pack\b|\bpack of (\d+)\b", value, re.IGNORECASE)
    if pack:
        count = next(m for m in found if m.end in (pack.end(1), pack.end(2)))
        quantities.append((count, "item"))
    counted = {m.end for m, _ in quantities} | {m.end for m in prices}
    if len(quantities) + len(prices) != 2 or any(m.end not in counted for m in found):
        return False
    if len(prices) == 1 and len(quantities) == 1:
        asked = (
            PRICE_ASK.search(value[max(0, value.lower().rfind("price") - 1) :])
            or PRICE_ASK.search(value)
            or LAST_PER.search(value)
        )  # "A 6-pack costs $10.50. Per bottle?"
        if not asked:
            return False
        per = asked.group(3).lower()
        per = "item" if pack and per in ("can", "bottle", "item", "unit", "each", "one", "pack") else per
        (q, unit), price = quantities[0], prices[0]
        if re.match(r"\s*(?:per|an?|each|every|/)\s", value[price.end :]):
            return False  # "$18.50 per hour for 40 hours" is a rate times a span
        factor = _same(per, unit) if unit != "item" or per == "item" else None
        if factor is None:
            return False
        scale = float(asked.group(2)) if asked.group(2) else 1.0
        result = price.value / (q.value / factor) * scale
        add(
            out,
            f"{shown(price)} for {format_number(q.value)} {unit}, per {format_number(scale) + ' ' if scale != 1 else ''}"
            f"{per}",
            f"{price.value} / ({q.value} / {factor:g}) * {scale:g}",
            result,
            [price.value, q.value],
            "unit_rate",
            price.currency,
        )
        return True
    if len(quantities) != 2:
        return False
    (qa, ua), (qb, ub) = quantities
    if SPEED_ASK.search(value):
        distance, time = ((qa, ua), (qb, ub)) if units.dimension_of(ub) == "[time]" else ((qb, ub), (qa, ua))
        hours = _same(time[1], "hour")
        dist_unit = units.find_unit(distance[1])
        if hours is None or not dist_unit or dist_unit.dimension != "[length]":
            return False
        shown_unit = (
            "mph"
            if dist_unit.name == "miles"
            else "km/h"
            if dist_unit.name == "kilometres"
            else f"{dist_unit.name} per hour"
        )
        per_hour = distance[0].value / (time[0].value * hours)
        add(
            out,
            f"average speed over {format_number(distance[0].value)} {distance[1]} in "
            f"{format_number(time[0].value)} {time[1]}",
            f"{distance[0].value} / ({time[0].value} * {hours:g})",
            per_hour,
            [distance[0].value, time[0].value],
            "unit_rate",
            unit=f" {shown_unit}",
        )
        return True
    ask = PER_ASK.search(value[max(qa.end, qb.end) :])
    daily = re.search(r"\b(daily|weekly|monthly|hourly|yearly)\b", value, re.IGNORECASE)
    if ask:
        top, scale, bottom = ask.group(1).lower(), float(ask.group(2) or 1), ask.group(3).lower()
        top = "minutes" if top == "pace" else top  # a runner's pace: minutes per km or mile
    elif re.search(r"\bmpg\b", value, re.IGNORECASE):
        top, scale, bottom = "miles", 1.0, "gallon"
    elif re.search(r"\bpace\b", value, re.IGNORECASE):
        return False
    elif daily:
        top, scale, bottom = (ua if units.dimension_of(ua) != "[time]" else ub), 1.0, DAILY[daily.group(1).lower()]
    else:
        return False
    for (qt, ut), (qd, ud) in (((qa, ua), (qb, ub)), ((qb, ub), (qa, ua))):
        f_top, f_bottom = _same(ut, top), _same(ud, bottom)
        if f_top is not None and f_bottom is not None and qd.value:
            result = (qt.value * f_top) / (qd.value * f_bottom) * scale
            bottom_shown = f"{format_number(scale)} {bottom}" if scale != 1 else bottom
            add(
                out,
                f"{format_number(qt.value)} {ut} over {format_number(qd.value)} {ud}, in {top} per {bottom_shown}",
                f"({qt.value} * {f_top:g}) / ({qd.value} * {f_bottom:g}) * {scale:g}",
                result,
                [qt.value, qd.value, scale],
                "unit_rate",
                unit=f" {top} per {bottom_shown}",
            )
            return True
    return False


CONVERT_ASK = compiled(
    rf"(?:\b(?:how (?:far|much|many|long|heavy|big|fast|tall|high|wide|deep)|what(?:'s| is| are)|"
    rf"convert|is|are)\b[^.?!]*?|^[^.?!]*?)"
    rf"\b(?:in|into|to|as)\s+({units.UNIT_PATTERN})\s*[?.!]*\s*$"
)
CONVERT_ASK_FIRST = compiled(
    rf"\bhow many\s+({units.UNIT_PATTERN})(?:\s+(?:is|are|was|were|in|does|do|makes?|equals?)\b|"
    r"\s*(?:is (?:that|it)|are there|would (?:that|it) be)?\s*[?.!]*\s*$)"
)


def conversion_asked_after(text: Text, out: Analysis) -> bool:
    """ "A marathon is 26.2 miles. How far is that in kilometres?": one measure, converted."""
    value = text.value
    quantities, found = _quantities(value), numbers(value)
    asked = CONVERT_ASK.search(value) or CONVERT_ASK_FIRST.search(value)
    if asked and len(quantities) == 2 and len(found) == 2:
        return _compound_measure(value, quantities, asked.group(1), out)
    if not asked or len(quantities) != 1 or len(found) != 1:
        return False
    (m, unit), target = quantities[0], asked.group(1)
    before = len(out.computations)
    _convert(m, unit, target, out)
    return len(out.computations) > before


def _compound_measure(value: str, quantities: list[tuple[Mention, str]], target: str, out: Analysis) -> bool:
    """ "2 hours 30 minutes in minutes", "5 ft 10 in to cm": one measure written in two units, converted."""
    (a, ua), (b, ub) = quantities
    big, small, goal = units.find_unit(ua), units.find_unit(ub), units.find_unit(target)
    joined = re.fullmatch(r"\s*[a-z]*\s*(?:,|and)?\s*", value[a.end : b.start], re.IGNORECASE)
    if (
        not (big and small and goal and joined)
        or not big.dimension == small.dimension == goal.dimension
        or big.factor <= small.factor
    ):
        return False
    total = (a.value * big.factor + b.value * small.factor) / goal.factor
    add(
        out,
        f"{format_number(a.value)} {big.name if a.value != 1 else ua} {format_number(b.value)} {small.name} in {goal.name}",
        f"({a.value} * {big.factor} + {b.value} * {small.factor}) / {goal.factor}",
        total,
        [a.value, b.value],
        "conversion",
        unit=f" {goal.name}",
    )
    return True


MPG = compiled(r"(\d+(?:\.\d+)?)\s*(?:mpg|miles per gallon|miles to the gallon)\b")
PER_100 = compiled(r"(\d+(?:\.\d+)?)\s*(?:l/100\s?km|litres per 100\s?km|liters per 100\s?km|l per 100\s?km)")
MPG_ASKED = cue(
    r"\b(mpg|miles per gallon|miles to the gallon)\s*[?.!]*\s*(?:is (?:that|it))?\s*[?.!]*\s*$|\bin mpg\b|how many miles per gallon"
)
PER_100_ASKED = cue(r"\b(?:l|litres|liters)\s*(?:/|per)\s*100\s?km\b")
HUNDRED_KM = compiled(r"(?:/|per)\s*100\s?km\b")
GALLON_MILES_PER_100_KM = 100 * units.unit("gallon").factor * 1000 / (units.unit("mile").factor / 1000)


def fuel_economy(text: Text, out: Analysis) -> bool:
    """ "35 mpg in litres per 100 km", "6.5 L/100 km in mpg": one is 235.2 over the other (US gallons)."""
    value = text.value
    mpg, per_100 = MPG.search(value), PER_100.search(value)
    hundreds = [match.span() for match in HUNDRED_KM.finditer(value)]  # the 100 of "L/100 km" is part of the unit
    found = [m for m in numbers(value) if not any(a <= m.start < b for a, b in hundreds)]
    if len(found) != 1 or not found[0].value or not (mpg or per_100):
        return False
    figure = found[0].value
    out.labels.extend(100.0 for _ in hundreds)
    if mpg and PER_100_ASKED.search(value[mpg.end() :]):
        add(
            out,
            f"{format_number(figure)} mpg in litres per 100 km (US gallons)",
            f"{GALLON_MILES_PER_100_KM} / {figure}",
            GALLON_MILES_PER_100_KM / figure,
            [figure],
            "conversion",
            unit=" litres per 100 km",
        )
        return True
    if per_100 and MPG_ASKED.search(value[per_100.end() :]):
        add(
            out,
            f"{format_number(figure)} litres per 100 km in mpg (US gallons)",
            f"{GALLON_MILES_PER_100_KM} / {figure}",
            GALLON_MILES_PER_100_KM / figure,
            [figure],
            "conversion",
            unit=" mpg",
        )
        return True
    return False


TRAVEL_FAR = cue(r"\b(how far|distance|how many (?:km|kilomet\w+|miles|metres|meters))\b")
TRAVEL_LONG = cue(r"\b(how long|how much time|how many (?:hours|minutes))\b")


def travel(text: Text, out: Analysis) -> bool:
    """ "How far in 2 hours at 65 mph?" (speed times time), "How long is 90 km at 60 km/h?" (distance over speed)."""
    value = text.value
    quantities, found = _quantities(value), numbers(value)
    if len(quantities) != 2 or len(found) != 2:
        return False
    speed = next(((m, u) for m, u in quantities if units.dimension_of(u) == "[length] / [time]"), None)
    other = next(((m, u) for m, u in quantities if speed is None or m is not speed[0]), None)
    if speed is None or other is None:
        return False
    (v, vu), (q, qu) = speed, other
    v_unit, q_unit = units.find_unit(vu), units.find_unit(qu)
    if v_unit is None or q_unit is None:
        return False
    if q_unit.dimension == "[time]" and TRAVEL_FAR.search(value):
        per_hour = v_unit.factor * 3600  # metres an hour
        distance_unit = "miles" if v_unit.name == "mph" else "kilometres"
        to_unit = units.unit(distance_unit).factor
        hours = q.value * q_unit.factor / 3600
        add(
            out,
            f"{format_number(hours)} hours at {format_number(v.value)} {vu}",
            f"{v.value} * {q.value} * {q_unit.factor / 3600:g}",
            v.value * per_hour / 3600 * q.value * q_unit.factor / to_unit,
            [v.value, q.value],
            "travel",
            unit=f" {distance_unit}",
        )
        return True
    if q_unit.dimension == "[length]" and TRAVEL_LONG.search(value):
        hours = q.value * q_unit.factor / (v.value * v_unit.factor) / 3600
        add(
            out,
            f"{format_number(q.value)} {qu} at {format_number(v.value)} {vu}",
            f"({q.value} * {q_unit.factor:g}) / ({v.value} * {v_unit.factor:g}) / 3600",
            hours,
            [v.value, q.value],
            "travel",
            unit=" hours",
        )
        return True
    return False


RATE_OF = compiled(
    rf"(\d[\d,]*(?:\.\d+)?)\s*({units.UNIT_PATTERN})\s*(?:per|/|an?|each)\s*"
    r"(second|sec|s|minute|min|hour|hr|h|day)\b"
)


def time_to_finish(text: Text, out: Analysis) -> bool:
    """ "4.5 GB at 50 MB per second: how long?", "a 200 litre tank filling at 12 litres a minute": amount over rate."""
    value = text.value
    rate, found = RATE_OF.search(value), numbers(value)
    if not rate or len(found) != 2 or not TRAVEL_LONG.search(value):
        return False
    per = next(m for m in found if m.end == rate.end(1)) if any(m.end == rate.end(1) for m in found) else None
    amount = next((m for m in found if m is not per), None)
    given = next((u for m, u in _quantities(value) if amount and m.end == amount.end), None)
    rate_unit, amount_unit = units.find_unit(rate.group(2)), units.find_unit(given or "")
    time_unit = units.find_unit(rate.group(3))
    if re.fullmatch(r"[kmgtp]b", rate.group(2), re.IGNORECASE) and rate.group(2)[-1] == "b":
        return False  # "50 Mb per second" may be megabits: eight times fewer bytes than MB
    if (
        not (per and amount and rate_unit and amount_unit and time_unit and per.value)
        or rate_unit.dimension != amount_unit.dimension
        or rate_unit.dimension in ("[length]", "[time]")
    ):
        return False  # distances over speeds are travel's
    taken = amount.value * amount_unit.factor / (per.value * rate_unit.factor)
    add(
        out,
        f"{format_number(amount.value)} {given} at {format_number(per.value)} {rate.group(2)} per {time_unit.name[:-1]}",
        f"({amount.value} * {amount_unit.factor}) / ({per.value} * {rate_unit.factor})",
        taken,
        [amount.value, per.value],
        "travel",
        unit=f" {time_unit.name}",
    )
    return True
