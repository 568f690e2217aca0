"""An answer made from the team's findings alone, with no model text: the computed figures exactly as
computed, the cited passages' own sentences, and the sources.

The writer composes it on the basic profile (the embedded model invents when it restates), and the
supervisor when the writer failed: a real, readable answer from what the team found, never an
internal error as the text.
"""

from __future__ import annotations

from agents.quoting import quoted
from orchestration.protocol import Finding

NO_SENTENCE_ANSWERS = "The sources below touch on this, but none of their sentences answers it directly."
NO_FIGURES_FOUND = (
    "I could not read the figures in this request ({why}), so I give no figure rather "
    "than a guess. A wording I can compute: {example}."
)


def lead(findings: list[Finding]) -> str:
    """The computed figures (and refused expressions) open the answer, exactly as computed."""
    lines = [c["display"] for f in findings for c in f.data.get("computations", [])]
    lines += [r["display"] for f in findings for r in f.data.get("refusals", [])]
    return "".join(f"{line[:1].upper()}{line[1:]}.\n" for line in lines) + ("\n" if lines else "")


def footer(findings: list[Finding]) -> str:
    """Sources and the agents that could not help, verbatim (a small model may garble them). Why an
    agent failed goes to the trace and the logs, not to the answer."""
    lines: list[str] = []
    sources = [s for f in findings for s in f.sources]
    if sources:
        lines.append("Sources: " + "; ".join(f"[{s.ref}] {s.location}" for s in sources))
    missing = [f"the {f.agent}" for f in findings if f.status == "failed"]
    if missing:
        lines.append("Not available for this answer: " + ", ".join(missing) + ".")
    return "\n\n" + "\n".join(lines) if lines else ""


def body(instruction: str, findings: list[Finding]) -> str:
    """The figures, a plain word on figures that could not be read, and the quoted passages ("" when
    the team found nothing to say)."""
    computed = [c for f in findings for c in f.data.get("computations", [])]
    unread = next((f.data for f in findings if f.data.get("unread")), None)
    sources = [s for f in findings for s in f.sources]
    parts = [lead(findings).strip()]
    if unread and not computed:
        parts.append(NO_FIGURES_FOUND.format(why=unread["unread"], example=unread["example"]))
    if sources:
        parts.append(quoted(instruction, sources).strip() or NO_SENTENCE_ANSWERS)
    return "\n\n".join(part for part in parts if part)


def answer_from_findings(instruction: str, findings: list[Finding]) -> str:
    """The whole answer, sources included ("" when there is nothing to say)."""
    text = body(instruction, findings)
    return text + footer(findings) if text else ""
