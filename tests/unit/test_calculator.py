import pytest

from agents.calculator import UnsafeExpression, compute, parse_table, safe_eval


def values(text):
    return {c.label: round(c.value, 4) for c in compute(text)}


def test_growth_rate_between_two_figures():
    assert values("compute the growth rate from 120 to 150") == {"growth from 120 to 150": 25.0}


def test_compound_growth_over_years_and_scaled_units():
    found = values("Revenue grew from $1.2m to $1.5m over 3 years")
    assert found["growth from 1,200,000 to 1,500,000"] == 25.0
    assert found["compound annual growth rate over 3 years"] == pytest.approx(7.7217, abs=1e-3)


def test_percentages():
    assert values("what is 15% of 80?") == {"15% of 80": 12.0}
    assert values("what percentage is 30 of 120") == {"30 as a share of 120": 25.0}


def test_statistics_of_a_list():
    found = values("the average and median of 3, 5, 10 and 22")
    assert found["mean of the figures"] == 10.0
    assert found["median of the figures"] == 7.5
    assert found["sum of the figures"] == 40.0


def test_markdown_table_columns_skip_year_labels():
    table = "| year | revenue |\n|---|---|\n| 2021 | 100 |\n| 2022 | 120 |\n| 2023 | 150 |"
    assert list(parse_table(table)) == ["revenue"]
    assert values(table)["growth from 100 to 150"] == 50.0


def test_csv_table():
    table = "month,visits\njan,10\nfeb,20\nmar,30"
    assert values(table)["mean of visits"] == 20.0


def test_arithmetic_expression():
    assert values("calculate (12 + 8) * 3 / 4") == {"(12 + 8) * 3 / 4": 15.0}


def test_no_figures_means_no_computation():
    assert compute("what happened on 2023-01-05?") == []
    assert compute("tell me a story") == []


@pytest.mark.parametrize("expression", ["__import__('os')", "2**10000", "(1).real", "open('x')",
                                        "[1,2][0]", "1/0", "x + 1"])
def test_safe_eval_refuses_anything_but_arithmetic(expression):
    with pytest.raises((UnsafeExpression, SyntaxError)):
        safe_eval(expression)
