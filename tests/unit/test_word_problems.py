"""Everyday arithmetic in words: exactly the figure asked for, from the calculator."""

import pytest

from agents.word_problems import analyse, parse_table


def figures(text):
    return [round(c.value, 2) for c in analyse(text).computations]


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("Convert 3.5 hours into minutes", 210),
        ("How many seconds are in a day?", 86400),
        ("Convert 10 kg to pounds", 22.05),
        ("How many megabytes are in 3 gigabytes?", 3000),
        ("What is 100 degrees fahrenheit in celsius?", 37.78),
        ("Sum these expenses: 120, 45.50, 80 and 14.50", 260),
        ("Divide 1,000 by 8", 125),
        ("What percentage of 80 is 20?", 25),
        ("30 is what percent of 120?", 25),
        ("What is 15% of 240?", 36),
        ("The price rose from 8.00 to 10.00. What is the percentage increase?", 25),
        ("Sales fell from 200 to 150. What was the decline?", -25),
        ("What is 2 to the power of 10?", 1024),
        ("What is two plus three?", 5),
        ("A plan costs $40 per month. How much is that over 18 months?", 720),
        ("A subscription costs $15 per month. How much is that over 2 years?", 360),
        ("Revenue grew from $1.2M to $1.8M over 3 years. What is the CAGR?", 14.47),
        ("What is the standard deviation of 2, 4, 4, 4, 5, 5, 7 and 9?", 2.14),
        ("What is the ratio of 3 to 4?", 0.75),
        ("Split $300 equally among 4 people", 75),
        ("A jacket costs $80 and is 25% off. What is the sale price?", 60),
        ("What is a 15% tip on a $80 bill?", 12),
        ("Invest $1,000 at 5% per year for 3 years", 1157.63),
        ("What is 3.5k plus 1,500?", 5000),
        ("What is the square root of 144?", 12),
    ],
)
def test_one_request_one_figure(request_text, expected):
    assert figures(request_text) == [expected]


def test_only_the_statistics_asked_for_are_computed():
    assert figures("What is the minimum and maximum of 7, 2, 9, 4?") == [2, 9]
    labels = [c.label for c in analyse("Sum these: 12, 30, 7.5").computations]
    assert labels == ["sum of 12, 30 and 7.5"]


def test_each_computation_keeps_its_expression_and_inputs():
    [growth] = analyse("growth from 120 to 150?").computations
    assert growth.inputs == [120, 150] and "150" in growth.expression and growth.unit == "%"


def test_tables_in_markdown_and_csv():
    table = "| year | revenue |\n|---|---|\n| 2021 | 100 |\n| 2022 | 120 |\n| 2023 | 150 |"
    columns, _ = parse_table(table)
    assert list(columns) == ["revenue"]  # years label the rows
    assert figures(table + "\nWhat is the growth in revenue?") == [50]
    assert figures("month,visits\njan,300\nfeb,450\nmar,600\nWhat is the average?") == [450]


def test_no_figures_means_no_computation():
    assert not analyse("what happened on 2023-01-05?")
    assert not analyse("tell me a story")


def test_hostile_expressions_are_refused_with_a_sentence():
    refused = analyse("Compute (((9^99)^99)^99)^99").refusals
    assert refused and "digits" in refused[0].reason
    assert "more than 40 digits" in analyse("9" * 5000 + " * 3").refusals[0].reason
