"""Units the analyst converts, through `pint`: time, length, mass, area, volume, speed, data and
temperature.

The factors come from pint's registry; this module only maps the names people write ("sq ft",
"km/h", "litres") to pint's units. Months and years are calendar averages (a year of 365 days, a
month of a twelfth of that), and an acre is the international acre. Data sizes follow the SI and
IEC standards: a gigabyte (GB) is 1000^3 bytes, a gibibyte (GiB) 1024^3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pint

REGISTRY: pint.UnitRegistry[float] = pint.UnitRegistry()
REGISTRY.define("calendar_year = 365 * day")
REGISTRY.define("calendar_month = calendar_year / 12")
REGISTRY.define("calendar_quarter = calendar_year / 4")
REGISTRY.define("calendar_decade = 10 * calendar_year")
REGISTRY.define("international_acre = 4046.8564224 * meter ** 2")


@dataclass(frozen=True)
class Unit:
    name: str  # plural, as shown in answers
    dimension: str
    factor: float  # in the dimension's base unit (pint's)


# the names people write -> (pint's unit, the plural shown in answers)
NAMES: dict[str, tuple[str, str]] = {
    # time
    "ms|millisecond|milliseconds": ("millisecond", "milliseconds"),
    "s|sec|secs|second|seconds": ("second", "seconds"),
    "min|mins|minute|minutes": ("minute", "minutes"),
    "h|hr|hrs|hour|hours": ("hour", "hours"),
    "d|day|days": ("day", "days"),
    "wk|wks|week|weeks": ("week", "weeks"),
    "fortnight|fortnights": ("fortnight", "fortnights"),
    "month|months|mo": ("calendar_month", "months"),
    "quarter|quarters": ("calendar_quarter", "quarters"),
    "yr|yrs|year|years": ("calendar_year", "years"),
    "decade|decades": ("calendar_decade", "decades"),
    # length
    "mm|millimetre|millimetres|millimeter|millimeters": ("millimeter", "millimetres"),
    "cm|centimetre|centimetres|centimeter|centimeters": ("centimeter", "centimetres"),
    "m|metre|metres|meter|meters": ("meter", "metres"),
    "km|kilometre|kilometres|kilometer|kilometers": ("kilometer", "kilometres"),
    "inch|inches": ("inch", "inches"),
    "ft|foot|feet": ("foot", "feet"),
    "yd|yard|yards": ("yard", "yards"),
    "mi|mile|miles": ("mile", "miles"),
    "nmi|nautical mile|nautical miles": ("nautical_mile", "nautical miles"),
    # mass
    "mg|milligram|milligrams": ("milligram", "milligrams"),
    "g|gram|grams": ("gram", "grams"),
    "kg|kgs|kilo|kilos|kilogram|kilograms": ("kilogram", "kilograms"),
    "t|tonne|tonnes|metric ton|metric tons": ("tonne", "tonnes"),
    "oz|ounce|ounces": ("ounce", "ounces"),
    "lb|lbs|pound|pounds": ("pound", "pounds"),
    "st|stone|stones": ("stone", "stone"),
    # area
    "m2|m²|sq m|sqm|square metre|square metres|square meter|square meters": ("meter ** 2", "square metres"),
    "km2|km²|sq km|square kilometre|square kilometres|square kilometer|square kilometers": (
        "kilometer ** 2",
        "square kilometres",
    ),
    "ft2|ft²|sq ft|sqft|square foot|square feet": ("foot ** 2", "square feet"),
    "sq in|square inch|square inches": ("inch ** 2", "square inches"),
    "sq mi|square mile|square miles": ("mile ** 2", "square miles"),
    "acre|acres": ("international_acre", "acres"),
    "ha|hectare|hectares": ("hectare", "hectares"),
    # volume (US customary measures)
    "ml|millilitre|millilitres|milliliter|milliliters": ("milliliter", "millilitres"),
    "l|litre|litres|liter|liters": ("liter", "litres"),
    "m3|m³|cubic metre|cubic metres|cubic meter|cubic meters": ("meter ** 3", "cubic metres"),
    "gal|gallon|gallons": ("gallon", "US gallons"),
    "imperial gallon|imperial gallons": ("imperial_gallon", "imperial gallons"),
    "qt|quart|quarts": ("quart", "US quarts"),
    "pt|pint|pints": ("pint", "US pints"),
    "cup|cups": ("cup", "US cups"),
    "fl oz|fluid ounce|fluid ounces": ("fluid_ounce", "US fluid ounces"),
    "tbsp|tablespoon|tablespoons": ("tablespoon", "tablespoons"),
    "tsp|teaspoon|teaspoons": ("teaspoon", "teaspoons"),
    # speed
    "km/h|kph|kmh|km/hr|kilometres per hour|kilometers per hour": ("kilometer / hour", "km/h"),
    "mph|miles per hour": ("mile / hour", "mph"),
    "m/s|metres per second|meters per second": ("meter / second", "m/s"),
    "knot|knots": ("knot", "knots"),
    # data
    "bit|bits": ("bit", "bits"),
    "b|byte|bytes": ("byte", "bytes"),
    "kb|kilobyte|kilobytes": ("kilobyte", "kilobytes"),
    "mb|megabyte|megabytes": ("megabyte", "megabytes"),
    "gb|gigabyte|gigabytes": ("gigabyte", "gigabytes"),
    "tb|terabyte|terabytes": ("terabyte", "terabytes"),
    "pb|petabyte|petabytes": ("petabyte", "petabytes"),
    "kib|kibibyte|kibibytes": ("kibibyte", "kibibytes"),
    "mib|mebibyte|mebibytes": ("mebibyte", "mebibytes"),
    "gib|gibibyte|gibibytes": ("gibibyte", "gibibytes"),
    "tib|tebibyte|tebibytes": ("tebibyte", "tebibytes"),
}


def _unit(pint_name: str, shown: str) -> Unit:
    base = REGISTRY.Quantity(1, pint_name).to_base_units()
    dimension = "data" if str(base.units) == "bit" else str(base.dimensionality)
    return Unit(shown, dimension, float(base.magnitude))


UNITS: dict[str, Unit] = {
    alias: unit
    for aliases, (pint_name, shown) in NAMES.items()
    for unit in [_unit(pint_name, shown)]
    for alias in aliases.split("|")
}
TEMPERATURES = {
    "c": "°C",
    "°c": "°C",
    "celsius": "°C",
    "degrees celsius": "°C",
    "degrees c": "°C",
    "centigrade": "°C",
    "f": "°F",
    "°f": "°F",
    "fahrenheit": "°F",
    "degrees fahrenheit": "°F",
    "degrees f": "°F",
    "k": "K",
    "kelvin": "K",
    "kelvins": "K",
}
PINT_TEMPERATURE = {"°C": "degC", "°F": "degF", "K": "kelvin"}
DECIMAL_DATA = {"kilobytes", "megabytes", "gigabytes", "terabytes", "petabytes"}

# Longest names first, so "nautical miles" wins over "miles" and "kilograms" over "g".
_NAMES = sorted({*UNITS, *TEMPERATURES}, key=len, reverse=True)
UNIT_PATTERN = r"(?:" + "|".join(re.escape(n) for n in _NAMES) + r")(?![A-Za-z²³/])"


def find_unit(name: str) -> Unit | None:
    return UNITS.get(" ".join(name.strip().lower().split()))


def unit(name: str) -> Unit:
    """A unit named in the code itself (not by a user): it is known."""
    found = find_unit(name)
    assert found is not None, name
    return found


def dimension_of(name: str) -> str | None:
    found = find_unit(name)
    return found.dimension if found else None


def temperature(name: str) -> str | None:
    return TEMPERATURES.get(" ".join(name.strip().lower().split()))


def convert_temperature(value: float, source: str, target: str) -> float:
    quantity = REGISTRY.Quantity(value, PINT_TEMPERATURE[source])
    return float(quantity.to(PINT_TEMPERATURE[target]).magnitude)
