"""Right or honestly unsure, on the real processes and the embedded model: a request the reader cannot
account for gets no figure, a research answer quotes its cited passage, a compound question is
answered in both its parts."""

import re

import pytest
from openai import OpenAI

from agents.numbers import mentions

# The tests whose point is the model: the whole module on the embedded model, in the worker that runs it.
pytestmark = pytest.mark.xdist_group("embedded")


@pytest.fixture(scope="module")
def stack(embedded_stack):
    return embedded_stack


QUOTE = re.compile(r"“(.+?)” \[(\d+)\]")


@pytest.fixture(scope="module")
def client(stack):
    return OpenAI(base_url=stack.base_url, api_key="test", max_retries=0, timeout=120)


def ask(client, request):
    reply = client.chat.completions.create(model="chorus", messages=[{"role": "user", "content": request}])
    return reply, reply.choices[0].message.content


def test_a_request_the_reader_cannot_account_for_gets_no_figure_and_says_so(client):
    request = "What is 15% of 240 for my 3 kids?"  # the 3 is neither an operand nor explained
    reply, answer = ask(client, request)
    assert "analyst" in reply.metadata["agents_used"]
    assert reply.model_extra["computations"] == []
    assert "could not" in answer and "no figure" in answer, answer
    given = {m.value for m in mentions(request)}
    assert {m.value for m in mentions(answer)} <= given, answer  # no figure but the user's own
    assert "36" not in answer  # not even the one reading that leaves the 3 out


def test_a_research_answer_quotes_its_cited_passage(stack, client):
    reply, answer = ask(client, "How are conversations stored?")
    quotes = QUOTE.findall(answer)
    assert quotes, answer
    sources = {str(s["ref"]): s["location"] for s in reply.model_extra["sources"]}
    docs = {p.name: " ".join(p.read_text().split()) for p in (stack_root() / "docs").glob("*.md")}
    for sentence, ref in quotes:
        assert ref in sources, (ref, sources)
        page = docs[sources[ref].partition("#")[0]]
        assert " ".join(sentence.removesuffix(" …").split()) in page  # the passage's own words
    writer = next(run for run in reply.model_extra["agent_trace"] if run["agent"] == "writer")
    assert writer["llm_ms"] == 0, writer  # composed, not paraphrased: no model text to invent with


def test_a_compound_question_answers_its_research_part_and_its_compute_part(client):
    reply, answer = ask(
        client,
        "Our revenue went from $1.2M in 2023 to $1.5M in 2024. What is the growth "
        "rate, and what does the knowledge base say about how conversations are stored?",
    )
    assert reply.metadata["agents_used"] == "researcher,analyst,writer"
    assert "= 25%" in answer, answer
    assert QUOTE.search(answer) and "Sources: " in answer, answer
    assert reply.choices[0].finish_reason == "stop"


def stack_root():
    from tests.helpers import ROOT

    return ROOT
