"""How `make eval` judges an answer (scripted answers, no model)."""

from evals.grounding import judge_computation, judge_no_sources, judge_research, load_rows


def test_a_computed_answer_must_hold_the_result_and_only_given_numbers():
    request = "The price rose from 8.00 to 10.00. What is the percentage increase?"
    assert judge_computation(request, "Growth from 8.00 to 10.00 = 25%.", 25).ok
    assert not judge_computation(request, "The increase is 12.5%.", 25).ok  # wrong
    verdict = judge_computation(request, "Growth = 25%. The increase is 12.5%.", 25)
    assert not verdict.ok and "12.5" in verdict.why  # right, but with an invented number
    assert judge_computation("Divide ten by 4", "ten / 4 = 2.5, that is 10 over 4.", 2.5).ok


def test_sources_are_judged_from_the_answer_the_client_sees():
    answer = "Keys are hashed [1].\n\nSources: [1] configuration.md#configuration-security"
    assert judge_research(answer, "configuration.md").ok
    assert not judge_research(answer, "models.md").ok
    assert not judge_no_sources(answer).ok
    assert judge_no_sources("Paris is the capital of France.").ok


def test_the_grounding_set_is_large_enough():
    kinds = [row["kind"] for row in load_rows()]
    assert kinds.count("compute") >= 40 and kinds.count("research") >= 20 and kinds.count("no_sources") >= 20
