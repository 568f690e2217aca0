"""A capable model's stated computations: checked for where their inputs come from, then evaluated by
the calculator (agents/stated.py). The model never does the arithmetic."""

from agents.stated import evaluate_stated


def stated(label, expression, inputs, unit="", convert_from="", convert_to=""):
    return {
        "label": label,
        "expression": expression,
        "inputs": [{"value": v, "origin": o} for v, o in inputs],
        "unit": unit,
        "convert_from": convert_from,
        "convert_to": convert_to,
    }


BILL = "Dinner for three came to $240 before a 20% tip. How much does each person pay?"


def test_stated_computations_are_evaluated_by_the_calculator_in_order():
    analysis = evaluate_stated(
        [
            stated("the bill with the tip", "240 * (1 + 20/100)", [(240, "request"), (20, "request")], "$"),
            stated("each person's share", "288 / 3", [(288, "result"), (3, "request")], "$"),
        ],
        BILL,
        [],
        [],
    )
    assert not analysis.refusals
    assert [round(c.value, 6) for c in analysis.computations] == [288.0, 96.0]
    assert [c.figure for c in analysis.computations] == ["$288", "$96"]


def test_an_input_found_nowhere_is_refused_with_its_reason():
    analysis = evaluate_stated([stated("each share", "250 / 3", [(250, "request"), (3, "request")])], BILL, [], [])
    assert not analysis.computations
    [refusal] = analysis.refusals
    assert "250" in refusal.reason and "appears nowhere" in refusal.reason


def test_a_number_in_the_expression_that_is_not_a_stated_input_is_refused():
    analysis = evaluate_stated(
        [stated("each share", "240 * 1.25 / 3", [(240, "request"), (3, "request")])], BILL, [], []
    )
    assert not analysis.computations and "1.25" in analysis.refusals[0].reason


def test_a_label_that_states_an_invented_figure_is_refused():
    analysis = evaluate_stated(
        [stated("split among 5 people", "240 / 3", [(240, "request"), (3, "request")])], BILL, [], []
    )
    assert not analysis.computations and "5" in analysis.refusals[0].reason


def test_inputs_may_come_from_the_history_and_the_passages():
    analysis = evaluate_stated(
        [stated("growth", "(1.5 - 1.2) / 1.2 * 100", [(1.5, "passage"), (1.2, "history")], "%")],
        "What is the growth?",
        ["Revenue was $1.2M last year."],
        ["This year revenue reached $1.5M."],
    )
    [growth] = analysis.computations
    assert round(growth.value, 6) == 25.0 and growth.figure == "25%"


def test_unit_conversions_go_through_the_units_library():
    analysis = evaluate_stated(
        [stated("26.2 miles in kilometres", "26.2", [(26.2, "request")], convert_from="miles", convert_to="km")],
        "How far is 26.2 miles in km?",
        [],
        [],
    )
    [distance] = analysis.computations
    assert round(distance.value, 2) == 42.16 and distance.unit == " kilometres"
    unknown = evaluate_stated(
        [stated("in furlongs", "26.2", [(26.2, "request")], convert_from="miles", convert_to="furlongs")],
        "How far is 26.2 miles in furlongs?",
        [],
        [],
    )
    assert not unknown.computations and "furlongs" in unknown.refusals[0].reason


def test_the_calculators_own_bounds_hold_for_stated_expressions():
    analysis = evaluate_stated([stated("big", "9 ** 9 ** 9", [(9, "request")])], "What is 9 to the 9 to the 9?", [], [])
    assert not analysis.computations and "limit" in analysis.refusals[0].reason
