"""The grounding check, sentence by sentence, on scripted text (no model)."""

from agents.grounding import GroundingCheck, grounds_for
from orchestration.protocol import Finding, Message, Source, TaskRequest


def task_with_growth() -> TaskRequest:
    growth = {"label": "growth from 8 to 10", "expression": "(10 - 8) / 8 * 100", "value": 25.0,
              "unit": "%", "inputs": [8.0, 10.0], "note": ""}
    passage = Source(ref=1, title="Storage", location="conversations.md#storage",
                     snippet="Turns are kept for 7 days, at most 200 messages.")
    return TaskRequest(
        instruction="The price rose from 8.00 to 10.00. What is the percentage increase?",
        findings=[Finding(agent="analyst", status="ok", data={"computations": [growth]}),
                  Finding(agent="researcher", status="ok", sources=[passage])],
        messages=[Message(role="user", content="My budget is 300.")],
    )


def run(text: str, chunks: int = 3, **kwargs) -> tuple[str, GroundingCheck]:
    check = GroundingCheck(grounds_for(task_with_growth()), **kwargs)
    size = max(1, len(text) // chunks)
    out = "".join(check.feed(text[i:i + size]) for i in range(0, len(text), size)) + check.finish()
    return out, check


def test_grounded_sentences_pass_and_invented_numbers_are_dropped():
    out, check = run("The price went from 8 to 10, which is 25%. The percentage increase is 12.5%. "
                     "Conversations last 7 days [1]. Your budget is 300.")
    assert "12.5" not in out
    assert "25%" in out and "7 days [1]" in out and "300" in out
    assert check.report == "checked 6 numbers, dropped 1 sentence"


def test_a_user_number_shown_as_a_percentage_is_not_grounded():
    out, _ = run("The increase is 8%. It grew by 25%.")
    assert out == "It grew by 25%."


def test_a_claimed_result_must_be_a_computed_one():
    out, _ = run("So 10 - 8 = 8. The answer is 25%.")
    assert out == "The answer is 25%."


def test_rounded_figures_match_and_citations_must_exist():
    out, check = run("About 25.0% more [1] [4].")
    assert out == "About 25.0% more [1]."
    assert "removed 1 citation" in check.report


def test_repeats_are_dropped_and_stall_the_stream():
    out, check = run("It grew by 25%. It grew by 25%. It grew by 25%. It grew by 25%.", chunks=1)
    assert out == "It grew by 25%. "
    assert check.done


def test_nothing_left_gives_the_fallback():
    out, _ = run("Everest is 8,849 metres tall.", fallback="No grounded answer.")
    assert out == "No grounded answer."


def test_streaming_stays_sentence_by_sentence():
    check = GroundingCheck(grounds_for(task_with_growth()))
    assert check.feed("It grew by 25") == ""          # the sentence is not finished yet
    assert check.feed("%. Then") == "It grew by 25%. "  # released as soon as it ends
    assert check.finish() == "Then"
