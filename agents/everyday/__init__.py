"""Everyday money and measure questions, read by what they ask rather than by one phrasing.

Each reader looks for the cue of one kind of question (a tip, a loan, a wage, a price per unit, a
share, a reverse or chained percentage) and then takes the request's numbers by their roles: an
amount, a percentage, a count of people, a term. It answers only when every number has a role, so
a reading never leaves a number of the user's unexplained; what it cannot place it leaves to the
next readers, and the reading check (agents/reading.py) declines what no reader accounts for. A
reader that answers uses up the whole request, since it has read all of it.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.everyday import changes, counts, measures, money, shares
from agents.everyday.common import is_year, numbers
from agents.everyday.money import LOAN, PEOPLE, PERIOD_OF, TIP_ASKED
from agents.everyday.shares import MARKUP
from agents.word_problems import Analysis, Text

__all__ = ["LOAN", "MARKUP", "PEOPLE", "PERIOD_OF", "READERS", "TIP_ASKED", "is_year", "numbers", "read_everyday"]

Reader = Callable[[Text, Analysis], bool]

# In this order: the first reader that accounts for a request reads it, so the narrower kinds come first.
READERS: list[Reader] = [
    money.tips_and_splits,
    money.reverse_percentages,
    money.rate_applied,
    money.percentage_points,
    money.loans,
    money.pay,
    measures.unit_rates,
    shares.shares,
    shares.chained_percentages,
    shares.fractions,
    counts.products,
    counts.scaling,
    counts.remainder,
    changes.change_between_figures,
    changes.comparison,
    changes.multiples,
    measures.conversion_asked_after,
    measures.fuel_economy,
    measures.travel,
    measures.time_to_finish,
    changes.growth_by_roles,
]


def read_everyday(text: Text, out: Analysis) -> None:
    """The first reader that accounts for the request reads it all."""
    for read in READERS:
        if read(text, out):
            text.value = " " * len(text.value)
            return
