"""Answers composed from the findings: the passage's own sentences, the best first."""

from agents.quoting import best_quotes, quoted, sentences
from orchestration.protocol import Source

PASSAGE = (
    "# Conversations\n\nEach conversation has an id, and its messages are stored in Redis. "
    "Turns are kept for the TTL.\n\n```python\nclient.chat(...)\n```\n\n| a | b |\n- A turn is stored once."
)


def test_sentences_leave_out_code_tables_and_headings():
    found = sentences(PASSAGE)
    assert "Each conversation has an id, and its messages are stored in Redis." in found
    assert not any("client.chat" in s or "|" in s or s.startswith("#") for s in found)
    assert "A turn is stored once." in found  # a bullet's text, without its marker


def test_the_best_sentence_answers_the_question_and_is_cited():
    source = Source(ref=2, title="Conversations", location="conversations.md#conversations", snippet=PASSAGE)
    [(cited, sentence)] = best_quotes("Where are messages stored?", [source], limit=1)
    assert cited is source and "stored in Redis" in sentence
    answer = quoted("Where are messages stored?", [source])
    assert answer.count("[2]") == 1  # "A turn is stored once." shares one word only: not an answer
    assert quoted("Tell me about penguins", [source]) == ""  # nothing shared: nothing quoted
