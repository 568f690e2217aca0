"""The reading check: figures only from a reading that accounts for every number and the question's kind."""

import re

import pytest

from agents.numbers import mentions
from agents.reading import read_request


def figures(text, earlier=()):
    return [round(c.value, 2) for c in read_request(text, list(earlier), []).computations]


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        # the six requests of issue 21
        ("Our revenue went from $1.2M in 2023 to $1.5M in 2024. What is the growth rate?", [25]),
        ("Split $240 between 3 people with a 20% tip.", [48, 288, 96]),
        ("Price went up 12% to $56. What was it before?", [50]),
        ("Pay off a $10,000 loan at 5% over 3 years: what is the monthly payment?", [299.71, 789.52]),
        ("I earn $52,000 a year. What is that per hour?", [25]),
        ("Dinner was $85 and I want to leave an 18% tip. How much should I tip?", [15.3]),
        # percentage points beside percent, chained percentages, margins and conversions through pint
        ("Interest rates went from 3% to 4.5%. How many percentage points is that?", [1.5, 50]),
        ("A $200 coat is discounted 20%, then a further 10% at the till. Final price?", [144]),
        ("Revenue was $80,000 and costs were $60,000. What is the profit margin?", [25]),
        ("Convert 60 mph to km/h.", [96.56]),
        ("How many square feet is 50 square metres?", [538.2]),
        ("What is the difference between 45 and 72?", [27]),
    ],
)
def test_everyday_requests_are_read_by_what_they_ask(request_text, expected):
    assert figures(request_text) == expected


@pytest.mark.parametrize(
    "request_text",
    [
        "How much rent do I pay with 3 cats, 2 dogs and 5 fish?",
        "What is 15% of 240 for my 3 kids?",  # 3 is neither an operand nor explained
    ],
)
def test_a_request_the_reading_does_not_account_for_gets_no_figure(request_text):
    analysis = read_request(request_text, [], [])
    assert not analysis.computations
    assert analysis.unread
    given = {m.value for m in mentions(request_text)}
    shown = {m.value for m in mentions(analysis.example)}
    assert shown <= given  # the example wording uses only the user's own numbers


def test_a_tip_question_read_as_something_else_is_declined_not_answered():
    # "tip" names the kind: a reading with no tip in it is no answer to it
    analysis = read_request("How big a tip is 3 plus 20?", [], [])
    assert not analysis.computations and "tip" in analysis.unread


def test_a_follow_up_computes_from_the_earlier_request():
    assert figures("and to 200?", ["What is the growth from 120 to 150?"]) == [66.67]
    assert figures("and 20%?", ["What is 15% of 240?"]) == [48]
    assert not figures("tell me more", ["What is the growth from 120 to 150?"])


def test_a_follow_up_can_extend_a_list_change_the_period_or_continue_a_statement():
    assert figures("add 40 to the list", ["Average of 10, 20 and 30?"]) == [25]
    assert figures("and per week?", ["I earn $4,000 a month. What's that per year?"]) == [923.08]
    assert figures("How much is that over a year?", ["The interest is $45 a month."]) == [540]
    assert figures("If it grows 6% a year, how much after 5 years?", ["We have $8,000 in savings."]) == [10705.8]


def test_years_label_figures_and_give_an_annual_rate_its_span():
    assert figures("Sales were 4,000 units in 2021 and 5,000 units in 2022. What's the percentage increase?") == [25]
    [rate] = read_request(
        "Between 2020 and 2022 our users grew from 10,000 to 14,400. What was the annual growth rate?", [], []
    ).computations
    assert round(rate.value, 2) == 20 and re.search(r"over 2 years", rate.label)


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        # comparisons, multiples and measures written in two units
        ("How much more is $95 than $76, in percent?", [25]),
        ("If my $1,800 rent doubles, what is it?", [3600]),
        ("Convert 2 hours 30 minutes to minutes", [150]),
        ("How tall is 5 feet 10 inches in cm?", [177.8]),
        # a rate stated apart from the amount it applies to, and the amount itself when that is asked
        ("If a shirt costs $25 and sales tax is 7%, what's the total?", [26.75]),
        ("I got a 3% raise on my $62,000 salary. How much is the raise?", [1860]),
        ("What is the VAT at 20% on a £1,500 invoice?", [300]),
        # scaling, shares left, fuel economy, time to finish, items at a price each, inflation
        ("A recipe for 4 needs 300 g flour. How much for 6 people?", [450]),
        ("Our budget is $5,000 and we've spent 65%. How much is left?", [1750]),
        ("Fuel efficiency: 35 mpg. How many litres per 100 km is that?", [6.72]),
        ("A download of 4.5 GB at 50 MB per second takes how long?", [90]),
        ("I bought 3 shirts for $22 each and 2 pairs of jeans for $45 each. What did I spend?", [156]),
        ("If inflation is 3% a year, what will $100 be worth in today's money after 10 years?", [74.41]),
        ("We're 8 people and the total was $312 including tip. How much each?", [39]),
        ("Per month, how much is $39,000 a year?", [3250]),
    ],
)
def test_more_everyday_kinds_are_read(request_text, expected):
    assert figures(request_text) == expected


def test_a_change_stated_per_month_is_given_per_year_when_asked():
    assert figures("Netflix went from $15.49 to $17.99 a month. How much more per year is that?") == [2.5, 30]


@pytest.mark.parametrize(
    "request_text",
    [
        "Gross margin if revenue is $800k and COGS is $520k? And the margin on 300k of 900k?",  # four figures
        "Our margin: revenue is $800k and the other figure is $520k.",  # neither reads as a cost nor a profit
        "A download of 4.5 GB at 50 Mb per second takes how long?",  # megabits or megabytes: unclear
    ],
)
def test_unclear_margins_and_units_get_no_figure(request_text):
    assert not read_request(request_text, [], []).computations


def test_follow_ups_work_on_the_last_result_or_split_the_same_bill():
    assert figures("and times 3?", ["What's 12 x 15?"]) == [540]
    assert figures("and for 4 people?", ["Tip of 18% on $64?"]) == [11.52, 75.52, 18.88]
    assert figures("and the total?", ["What's 7% sales tax on $89?"]) == [6.23, 95.23]
    assert figures("make it 22%", ["What's the tip at 18% on $50?"]) == [11]
