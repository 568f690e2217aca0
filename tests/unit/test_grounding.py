"""The grounding check, word by word and sentence by sentence, on scripted text (no model)."""

from agents.grounding import CUT, GroundingCheck, grounds_for
from orchestration.protocol import Finding, Message, Source, TaskRequest


def task_with_growth() -> TaskRequest:
    growth = {
        "label": "growth from 8 to 10",
        "expression": "(10 - 8) / 8 * 100",
        "value": 25.0,
        "unit": "%",
        "inputs": [8.0, 10.0],
        "note": "",
    }
    passage = Source(
        ref=1,
        title="Storage",
        location="conversations.md#storage",
        snippet="Turns are kept for 7 days, at most 200 messages.",
    )
    return TaskRequest(
        instruction="The price rose from 8.00 to 10.00. What is the percentage increase?",
        findings=[
            Finding(agent="analyst", status="ok", data={"computations": [growth]}),
            Finding(agent="researcher", status="ok", sources=[passage]),
        ],
        messages=[Message(role="user", content="My budget is 300.")],
    )


def run(text: str, chunks: int = 3, **kwargs) -> tuple[str, GroundingCheck]:
    check = GroundingCheck(grounds_for(task_with_growth()), **kwargs)
    size = max(1, len(text) // chunks)
    out = "".join(check.feed(text[i : i + size]) for i in range(0, len(text), size)) + check.finish()
    return out, check


def test_grounded_sentences_pass_and_invented_numbers_are_dropped():
    out, check = run(
        "The price went from 8 to 10, which is 25%. The percentage increase is 12.5%. "
        "Conversations last 7 days [1]. Your budget is 300."
    )
    assert "12.5" not in out
    assert "25%" in out and "7 days [1]" in out and "300" in out
    assert check.report == "checked 6 numbers, dropped 1 sentence"


def test_a_user_number_shown_as_a_percentage_is_not_grounded():
    out, _ = run("The increase is 8%. It grew by 25%.")
    assert "8%" not in out and CUT in out and out.endswith(" It grew by 25%.")  # the first one is cut


def test_a_claimed_result_must_be_a_computed_one():
    out, _ = run("So 10 - 8 = 8. The answer is 25%.")
    assert out == f"So {CUT} The answer is 25%."
    whole, _ = run("So 10 - 8 = 8. The answer is 25%.", chunks=1)
    assert whole == "The answer is 25%."  # a sentence that arrives whole is dropped whole


def test_rounded_figures_match_and_citations_must_exist():
    out, check = run("About 25.0% more [1] [4].")
    assert out == "About 25.0% more [1]."
    assert "removed 1 citation" in check.report


def test_repeats_are_dropped_and_stall_the_stream():
    out, check = run("It grew by 25%. It grew by 25%. It grew by 25%. It grew by 25%.", chunks=1)
    assert out == "It grew by 25%. "
    assert check.done


def test_nothing_left_gives_the_fallback():
    out, _ = run("Everest is 8,849 metres tall. ", fallback="No grounded answer.", chunks=1)
    assert out == "No grounded answer."
    streamed, _ = run("Everest is 8,849 metres tall.", fallback="No grounded answer.")
    assert streamed == f"Everest is {CUT} No grounded answer."


def test_words_stream_as_they_come_until_one_may_be_a_number():
    check = GroundingCheck(grounds_for(task_with_growth()))
    assert check.feed("It gr") == "It "  # half a word waits for the rest of it
    assert check.feed("ew by ") == "grew by "  # whole words go out at once
    assert check.feed("25") == ""  # a number: the sentence waits for its end
    assert check.feed("% in all. Then") == "25% in all. "  # grounded: the rest goes out as it ends
    assert check.feed(" it ") == "Then it "
    assert check.finish() == ""


def test_an_invented_number_never_goes_out_and_cuts_its_sentence():
    check = GroundingCheck(grounds_for(task_with_growth()))
    out = "".join(check.feed(word + " ") for word in ["It", "is", "about", "22", "metres", "high.", "Fine."])
    out += check.finish()
    assert out == f"It is about {CUT} Fine. " and check.sentences_dropped == 1


def test_a_sentence_that_may_repeat_one_already_said_waits_for_its_end():
    check = GroundingCheck(grounds_for(task_with_growth()), already_said="Growth from 8 to 10 = 25%.")
    assert check.feed("Growth from ") == ""  # the start of what the answer already said
    assert check.feed("8 to 10 = 25%. ") == ""  # the repeat is dropped whole
    assert check.feed("Growth was fast ") == "Growth was fast "  # it went another way: out it goes


def test_each_piece_of_text_given_back_carries_exactly_its_own_tokens():
    check = GroundingCheck(grounds_for(TaskRequest(instruction="say hi")))
    tokens = ["Hello", ",", " I", "'m", " here", " to", " help", ".", " Ask", " away", "!"]
    pieces = []
    for piece in tokens:
        text = check.feed(piece, [{"token": piece, "logprob": -0.5, "top_logprobs": []}])
        pieces.append((text, [item["token"] for item in check.take_logprobs()]))
    text = check.finish()
    pieces.append((text, [item["token"] for item in check.take_logprobs()]))
    for text, taken in pieces:
        assert text == "".join(taken), pieces  # "I'm " must not carry " here", nor lose its space to it
    assert "".join(text for text, _ in pieces) == "".join(tokens)
