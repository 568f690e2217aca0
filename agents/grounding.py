"""The grounding check: every number in an answer comes from the user, a computation or a cited source.

The writer's text streams word by word, and each sentence is checked as it ends. Words go out as
they come until one could be a number or a citation: from there the sentence waits for its end.
If a number in it is held by none of those grounds, the rest of the sentence is dropped (cut at
the number, marked "…"; the computed figures already lead the answer, so the right result is never
lost with it); a citation `[n]` to a source that was not returned is removed. A sentence that may
yet repeat one already said, or be a sources line, waits for its end too.
Numbers shown as percentages must be grounded as percentages, and a result claimed with "=" or
"comes to" must be a computed result: so an answer never carries two results for one computation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from agents.numbers import Mention, decimals, mentions, words_to_digits
from orchestration.protocol import Finding, TaskRequest

CITATION = re.compile(r"\s?\[(\d+)\]")
SENTENCE_END = re.compile(r"(?<=[.!?:;])[\"')\]]*\s+|\n+")
LIST_MARKER = re.compile(r"^\s*(\d+)[.)]\s")
RESULT_CLAIM = re.compile(
    r"(?:=|\bequals?\b|\bcomes? to\b|\bamounts? to\b|\btotals?\b|\btotal (?:is|of)\b|\bresults? (?:is|in)\b|"
    r"\banswer is\b|\bworks out (?:to|at)\b)\s*(?:about\s+|approximately\s+|roughly\s+)?([-−]?[$€£¥₹]?\d[\d,]*(?:\.\d+)?)",
    re.IGNORECASE,
)
STALLED_AFTER_REPEATS = 3
# The knowledge base's passages come back request after request: the numbers in one are read once.
# (Reading a 700-character passage costs ~0.1 ms; a writer's four passages, ~0.4 ms a request.)
PASSAGES_REMEMBERED = 4096
WORD_AND_SPACE = re.compile(r"\S+\s+")
CUT = "…"


def _may_hold_number(word: str) -> bool:
    """A word that is, or may start, a number or a citation: the sentence waits from here."""
    return any(ch.isdigit() for ch in word) or "[" in word


def _plain(sentence: str) -> str:
    return re.sub(r"[^a-z0-9%]+", " ", sentence.lower()).strip()


@dataclass
class Grounds:
    """What an answer may say: the numbers it may contain, and which sources it may cite."""

    numbers: list[float] = field(default_factory=list)  # anything given, computed or cited
    percents: list[float] = field(default_factory=list)  # what it may show with a % sign
    results: list[float] = field(default_factory=list)  # what it may claim as a computed result
    references: set[int] = field(default_factory=set)

    def add_text(self, text: str) -> None:
        self._add(_numbers_in(text))

    def add_passage(self, text: str) -> None:
        """A source's text: like add_text, remembering what it read."""
        self._add(_remembered_numbers_in(text))

    def _add(self, found: tuple[tuple[float, float, bool], ...]) -> None:
        for value, raw, percent in found:
            self.numbers += [value, raw]
            if percent:
                self.percents.append(value)

    def add_computation(self, computation: dict) -> None:
        """A figure the calculator computed (the analyst's, or one the writer derived through it)."""
        value = abs(computation["value"])
        self.numbers += [value, *map(abs, computation.get("inputs", []))]
        self.results.append(value)
        if computation.get("unit") == "%":
            self.percents.append(value)
        self.add_text(computation.get("note", ""))

    def holds(self, m: Mention) -> bool:
        allowed = self.percents if m.percent else self.numbers
        return any(_same(m, v) for v in allowed)

    def holds_result(self, text: str) -> bool:
        found = mentions(text)
        return not self.results or any(_same(m, v) for m in found for v in self.results)


def _numbers_in(text: str) -> tuple[tuple[float, float, bool], ...]:
    """(value, as written, is a percentage) of each number in the text, words included."""
    return tuple((abs(m.value), abs(m.raw), m.percent) for m in mentions(words_to_digits(text)))


_remembered_numbers_in = lru_cache(maxsize=PASSAGES_REMEMBERED)(_numbers_in)


def _same(m: Mention, value: float) -> bool:
    """A written number matches a value it shows rounded: 1.67 matches 1.6667, 1,235 matches 1234.6."""
    shown = decimals(m.text)
    for written in {abs(m.value), abs(m.raw)}:
        if abs(written - value) <= 1e-9 * max(1.0, value):
            return True
        if shown and round(value, shown) == round(written, shown):
            return True
        if not shown and value >= 100 and round(value) == written:
            return True
    return False


def grounds_for(task: TaskRequest) -> Grounds:
    grounds = Grounds()
    grounds.add_text(task.instruction)
    for message in task.messages:
        grounds.add_text(message.content)
    for finding in task.findings:
        _add_finding(grounds, finding)
    return grounds


def _add_finding(grounds: Grounds, finding: Finding) -> None:
    for computation in finding.data.get("computations", []):
        grounds.add_computation(computation)
    for refusal in finding.data.get("refusals", []):
        grounds.add_text(refusal["expression"])
    for source in finding.sources:
        grounds.references.add(source.ref)
        grounds.add_passage(source.snippet)
        grounds.add_passage(source.title)


class GroundingCheck:
    """Feed it the LLM's text as it streams; it gives back the checked text, a sentence at a time."""

    def __init__(self, grounds: Grounds, fallback: str = "", already_said: str = ""):
        self.grounds = grounds
        self.fallback = fallback  # said when every sentence had to go and nothing else answers
        self.said = {_plain(line) for line in already_said.splitlines() if line.strip()}
        self.repeats_in_a_row = 0
        self.pending_logprobs: list[tuple[int, dict]] = []  # (offset in pending, token logprob)
        self.released_logprobs: list[dict] = []
        self.pending = ""  # of the sentence being written, what has not gone out
        self.sent = ""  # of the sentence being written, what went out already
        self.holding = False  # the sentence waits for its end (it has a number or a citation)
        self.numbers_checked = 0
        self.sentences_dropped = 0
        self.citations_removed = 0
        self.repeats_dropped = 0
        self.kept = 0
        self.calculated = 0  # figures the writer derived through the calculate tool, grounded as results

    def ground(self, computation: dict) -> None:
        """A figure the writer computed through the calculate tool while writing: it may be stated."""
        self.grounds.add_computation(computation)
        self.calculated += 1

    def feed(self, text: str, logprobs: list[dict] | None = None) -> str:
        """logprobs, if given, are the text's tokens; those of the text given back come out of take_logprobs."""
        offset = len(self.pending)
        for item in logprobs or []:
            self.pending_logprobs.append((offset, item))
            offset += len(item.get("token", ""))
        self.pending += text
        out = []
        while match := SENTENCE_END.search(self.pending):
            out.append(self._release(match.end()))
        out.append(self._flow())
        return "".join(out)

    def finish(self) -> str:
        text = self._release(len(self.pending)) if self.pending or self.sent else ""
        if not self.kept and self.sentences_dropped and self.fallback:
            return text + self.fallback
        return text

    def _flow(self) -> str:
        """Of the sentence being written, the complete words that can go out now."""
        if self.holding:
            return ""
        sentence = (self.sent + self.pending).lstrip()
        if sentence and ("Sources:".startswith(sentence[:8]) or sentence.startswith("Sources:")):
            return ""  # may be the sources line, which is dropped whole
        plain = _plain(sentence)
        if plain and any(said.startswith(plain) for said in self.said):
            return ""  # may be a repeat, which is dropped whole
        end = 0
        for match in WORD_AND_SPACE.finditer(self.pending):
            if _may_hold_number(match.group(0)):
                self.holding = True
                break
            end = match.end()
        return self._take(end)

    def _take(self, end: int) -> str:
        """pending[:end] goes out, with its logprobs; cut where a token begins, so that the text sent
        is exactly its tokens' text (a chunk carries the tokens of its own text)."""
        straddling = [at for at, item in self.pending_logprobs if at < end < at + len(item.get("token", ""))]
        end = straddling[0] if straddling else end
        if not end:
            return ""
        text, logprobs = self._cut(end)
        self.released_logprobs += logprobs
        self.sent += text
        return text

    def _cut(self, end: int) -> tuple[str, list[dict]]:
        """pending[:end], with its logprobs, taken off the pending text."""
        text, self.pending = self.pending[:end], self.pending[end:]
        mine = [item for at, item in self.pending_logprobs if at < end]
        self.pending_logprobs = [(at - end, item) for at, item in self.pending_logprobs if at >= end]
        return text, mine

    def _release(self, end: int) -> str:
        """The sentence ended at pending[:end]: what of its rest goes out (to the end of the token it
        ends in: what that adds of the next sentence is checked with this one)."""
        straddling = [
            at + len(item.get("token", ""))
            for at, item in self.pending_logprobs
            if at < end < at + len(item.get("token", ""))
        ]
        rest, mine = self._cut(straddling[0] if straddling else end)
        sent, self.sent, self.holding = self.sent, "", False
        checked = self._check(sent, rest)
        if checked.strip():
            self.released_logprobs += mine
        return checked

    def take_logprobs(self) -> list[dict]:
        taken, self.released_logprobs = self.released_logprobs, []
        return taken

    def _check(self, sent: str, rest: str) -> str:
        """The rest of a sentence whose beginning (`sent`) went out already: kept, or dropped."""

        def cite(match: re.Match) -> str:
            if int(match.group(1)) in self.grounds.references:
                return match.group(0)
            self.citations_removed += 1
            return ""

        ending = "\n" if rest.endswith("\n") else ""
        cut = (CUT + (ending or " ")) if sent.strip() else ending  # a sentence begun, then dropped, says so
        if (sent + rest).lstrip().startswith("Sources:"):
            return ""  # the sources are listed once, verbatim, at the end of the answer
        rest = CITATION.sub(cite, rest)
        sentence = sent + rest
        body = CITATION.sub(" ", LIST_MARKER.sub(" ", sentence))
        found = mentions(body)
        self.numbers_checked += len(found)
        grounded = all(self.grounds.holds(m) for m in found)
        if grounded and self.grounds.results:
            grounded = all(self.grounds.holds_result(claim.group(1)) for claim in RESULT_CLAIM.finditer(body))
        if not grounded:
            self.sentences_dropped += 1
            return cut
        plain = _plain(sentence)
        if plain and plain in self.said:  # a small model loops; a repeat says nothing new
            self.repeats_dropped += 1
            self.repeats_in_a_row += 1
            return cut
        if plain:
            self.said.add(plain)
            self.repeats_in_a_row = 0
            self.kept += 1
        return rest

    @property
    def done(self) -> bool:
        """The LLM is only repeating itself: stop reading it."""
        return self.repeats_in_a_row >= STALLED_AFTER_REPEATS

    @property
    def report(self) -> str:
        plural = "" if self.sentences_dropped == 1 else "s"
        text = f"checked {self.numbers_checked} numbers, dropped {self.sentences_dropped} sentence{plural}"
        if self.repeats_dropped:
            text += f", {self.repeats_dropped} repeated"
        if self.calculated:
            text += f", {self.calculated} figure{'s' if self.calculated != 1 else ''} from the calculate tool"
        if self.citations_removed:
            text += f", removed {self.citations_removed} citation{'s' if self.citations_removed != 1 else ''}"
        return text
