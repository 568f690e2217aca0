"""What the playground shows beside an answer, and how its conversations are titled."""

from orchestration.protocol import Message, Source, TaskResult
from servers.gateway.conversations import title_of
from servers.gateway.wire import findings_blocks


def test_a_title_is_the_first_question_on_one_line_and_cut_to_length():
    messages = [
        Message(role="assistant", content="Hello!"),
        Message(role="user", content="  How are\n conversations   stored? " + "x" * 100),
    ]
    title = title_of(messages)
    assert title.startswith("How are conversations stored? x") and title.endswith("…") and len(title) == 80
    assert title_of([Message(role="user", content="Short.")]) == "Short."
    assert title_of([Message(role="assistant", content="No question")]) == ""


def test_only_the_sources_the_answer_cites_are_shown_with_the_computed_figures():
    result = TaskResult(
        task_id="t",
        agent="supervisor",
        output="Growth from 120 to 150 = 25%. Kept in Redis [2].",
        sources=[Source(ref=1, title="Uncited", location="a.md#x"), Source(ref=2, title="Storage", location="b.md#y")],
        data={
            "computations": [
                {
                    "label": "growth from 120 to 150",
                    "expression": "(150 - 120) / 120 * 100",
                    "value": 25.0,
                    "figure": "25%",
                    "display": "growth from 120 to 150 = 25%",
                }
            ]
        },
    )
    blocks = findings_blocks(result)
    assert blocks["sources"] == [{"ref": 2, "title": "Storage", "location": "b.md#y"}]
    assert blocks["computations"] == [
        {
            "label": "growth from 120 to 150",
            "expression": "(150 - 120) / 120 * 100",
            "figure": "25%",
            "display": "growth from 120 to 150 = 25%",
        }
    ]
