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


def test_an_everyday_answer_is_right_declined_or_wrong():
    from evals.everyday import judge

    row = {
        "turns": ["Split $240 between 3 people with a 20% tip."],
        "kind": "compute",
        "expected": [96],
        "allowed": [48, 288],
    }
    assert judge(row, "20% tip on $240 = $48.\n$240 with the tip = $288.\nEach of 3 people pays = $96.")[0] == "right"
    assert judge(row, "3 plus 20% = 3.6.")[0] == "wrong"  # a misreading stated as computed
    assert judge(row, "I could not read the figures in this request, so I give no figure.")[0] == "declined"
    assert judge(row, "Each pays a fair share.")[0] == "wrong"  # no figure, and it does not say so


def test_the_everyday_set_has_two_halves_of_varied_questions():
    from evals.everyday import load

    dev, test = load("dev"), load("test")
    assert len(dev) + len(test) >= 150 and len(test) >= 75
    questions = [tuple(row["turns"]) for row in dev + test]
    assert len(set(questions)) == len(questions)
    assert sum(len(row["turns"]) > 1 for row in test) >= 5  # follow-ups in the half never tuned against
