"""The gateway's cut of the whole answer: stop sequences and max_tokens, streaming or not."""

from orchestration.tokens import count_tokens
from servers.gateway.answer_cap import AnswerCap


def stream(cap: AnswerCap, pieces: list[str]) -> str:
    return "".join(cap.feed(p) for p in pieces) + cap.finish()


def test_a_stop_sequence_split_across_chunks_does_not_leak():
    cap = AnswerCap(["END"], None, "chorus")
    out = stream(cap, ["The answer is 25%. E", "N", "D and then the sources"])
    assert out == "The answer is 25%. " and cap.finish_reason == "stop"


def test_a_held_back_prefix_that_is_not_a_stop_goes_out():
    cap = AnswerCap(["END"], None, "chorus")
    assert stream(cap, ["A friend E", "N", "joys it"]) == "A friend ENjoys it"
    assert cap.finish_reason is None


def test_max_tokens_caps_the_whole_answer_as_usage_counts_it():
    text = "Growth from 8 to 10 = 25%.\n\nThe price rose by a quarter over the period. " * 5
    cap = AnswerCap(None, 12, "chorus")
    out = stream(cap, [text[i : i + 7] for i in range(0, len(text), 7)])
    assert count_tokens(out) == 12 and text.startswith(out)
    assert cap.finish_reason == "length"
    assert AnswerCap(None, 12, "chorus").cut(text) == out


def test_zero_tokens_is_an_empty_answer():
    cap = AnswerCap(None, 0, "chorus")
    assert cap.cut("anything") == "" and cap.finish_reason == "length"
