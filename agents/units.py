"""Units the analyst converts: time, length, mass, data sizes and temperature.

Each unit is a factor to its dimension's base unit (seconds, metres, grams, bytes). Months and years
are calendar averages (a year of 365 days, a month of a twelfth of that). Data sizes follow the
SI and IEC standards: a gigabyte (GB) is 1000^3 bytes, a gibibyte (GiB) 1024^3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    name: str  # plural, as shown in answers
    dimension: str
    factor: float  # in the dimension's base unit


def _units(dimension: str, table: dict[str, tuple[float, str]]) -> dict[str, Unit]:
    out = {}
    for aliases, (factor, name) in table.items():
        for alias in aliases.split("|"):
            out[alias] = Unit(name, dimension, factor)
    return out


DAY = 86_400.0
UNITS: dict[str, Unit] = {
    **_units("time", {
        "ms|millisecond|milliseconds": (1e-3, "milliseconds"),
        "s|sec|secs|second|seconds": (1.0, "seconds"),
        "min|mins|minute|minutes": (60.0, "minutes"),
        "h|hr|hrs|hour|hours": (3_600.0, "hours"),
        "d|day|days": (DAY, "days"),
        "wk|wks|week|weeks": (7 * DAY, "weeks"),
        "fortnight|fortnights": (14 * DAY, "fortnights"),
        "month|months|mo": (365 * DAY / 12, "months"),
        "quarter|quarters": (365 * DAY / 4, "quarters"),
        "yr|yrs|year|years": (365 * DAY, "years"),
        "decade|decades": (3650 * DAY, "decades"),
    }),
    **_units("length", {
        "mm|millimetre|millimetres|millimeter|millimeters": (1e-3, "millimetres"),
        "cm|centimetre|centimetres|centimeter|centimeters": (1e-2, "centimetres"),
        "m|metre|metres|meter|meters": (1.0, "metres"),
        "km|kilometre|kilometres|kilometer|kilometers": (1e3, "kilometres"),
        "inch|inches": (0.0254, "inches"),
        "ft|foot|feet": (0.3048, "feet"),
        "yd|yard|yards": (0.9144, "yards"),
        "mi|mile|miles": (1609.344, "miles"),
        "nmi|nautical mile|nautical miles": (1852.0, "nautical miles"),
    }),
    **_units("mass", {
        "mg|milligram|milligrams": (1e-3, "milligrams"),
        "g|gram|grams": (1.0, "grams"),
        "kg|kgs|kilo|kilos|kilogram|kilograms": (1e3, "kilograms"),
        "t|tonne|tonnes|metric ton|metric tons": (1e6, "tonnes"),
        "oz|ounce|ounces": (28.349523125, "ounces"),
        "lb|lbs|pound|pounds": (453.59237, "pounds"),
        "st|stone|stones": (6350.29318, "stone"),
    }),
    **_units("data", {
        "bit|bits": (0.125, "bits"),
        "b|byte|bytes": (1.0, "bytes"),
        "kb|kilobyte|kilobytes": (1e3, "kilobytes"),
        "mb|megabyte|megabytes": (1e6, "megabytes"),
        "gb|gigabyte|gigabytes": (1e9, "gigabytes"),
        "tb|terabyte|terabytes": (1e12, "terabytes"),
        "pb|petabyte|petabytes": (1e15, "petabytes"),
        "kib|kibibyte|kibibytes": (2.0 ** 10, "kibibytes"),
        "mib|mebibyte|mebibytes": (2.0 ** 20, "mebibytes"),
        "gib|gibibyte|gibibytes": (2.0 ** 30, "gibibytes"),
        "tib|tebibyte|tebibytes": (2.0 ** 40, "tebibytes"),
    }),
}
TEMPERATURES = {
    "c": "°C", "°c": "°C", "celsius": "°C", "degrees celsius": "°C", "centigrade": "°C",
    "f": "°F", "°f": "°F", "fahrenheit": "°F", "degrees fahrenheit": "°F",
    "k": "K", "kelvin": "K", "kelvins": "K",
}
DECIMAL_DATA = {"kilobytes", "megabytes", "gigabytes", "terabytes", "petabytes"}

# Longest names first, so "nautical miles" wins over "miles" and "kilograms" over "g".
_NAMES = sorted({*UNITS, *TEMPERATURES}, key=len, reverse=True)
UNIT_PATTERN = r"(?:" + "|".join(re.escape(n) for n in _NAMES) + r")(?![A-Za-z])"


def find_unit(name: str) -> Unit | None:
    return UNITS.get(name.strip().lower())


def temperature(name: str) -> str | None:
    return TEMPERATURES.get(name.strip().lower())


def convert_temperature(value: float, source: str, target: str) -> float:
    kelvin = {"°C": value + 273.15, "°F": (value - 32) * 5 / 9 + 273.15, "K": value}[source]
    return {"°C": kelvin - 273.15, "°F": (kelvin - 273.15) * 9 / 5 + 32, "K": kelvin}[target]
