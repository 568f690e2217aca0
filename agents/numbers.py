"""Numbers as people write them: `1,000`, `$45.50`, `12%`, `3.5k`, `$2M`, `1.2bn`, `ten`.

One parser, shared by the analyst (what to compute) and the grounding check (which numbers an answer
may contain), so that both read a text the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CURRENCY = "$€£¥₹"
SCALES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "b": 1e9,
    "billion": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}

# A number not glued to a word before it ("SmolLM2", "v1") and not part of a longer number.
NUMBER_RE = re.compile(
    rf"(?<![\w.\d])(?P<sign>[-−]\s?)?(?P<currency>[{CURRENCY}])?\s?"
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:(?P<percent>\s?%|\s(?:percent|per\s?cent)\b)"
    r"|(?P<scale>k|K|M|mn|bn|tn|\s(?:thousand|million|billion|trillion)\b)(?![A-Za-z]))?"
    r"(?![A-Za-z_]\w*\d)"  # "4o", "2nd" stay words
)


@dataclass(frozen=True)
class Mention:
    """One number in a text."""

    value: float  # scaled: 3.5k -> 3500; 12% -> 12
    raw: float  # as written, before the scale
    percent: bool
    currency: str
    start: int
    end: int
    text: str


def mentions(text: str) -> list[Mention]:
    found = []
    for m in NUMBER_RE.finditer(text):
        digits = m.group("digits")
        if m.group("sign") and not _is_sign(text, m.start()):
            start = m.start("currency") if m.group("currency") else m.start("digits")
            sign = False
        else:
            start, sign = m.start(), bool(m.group("sign"))
        raw = float(digits.replace(",", "")) * (-1 if sign else 1)
        scale = (m.group("scale") or "").strip().lower()
        if scale == "m" and not m.group("currency") and m.group("scale") != "M":
            scale = ""  # "5 m" is five metres; "$5m" and "5M" are millions
        value = raw * SCALES.get(scale, 1.0)
        found.append(
            Mention(
                value, raw, bool(m.group("percent")), m.group("currency") or "", start, m.end(), text[start : m.end()]
            )
        )
    return found


def _is_sign(text: str, at: int) -> bool:
    """A minus is a sign only where no operand stands before it ("-5", "(-5", "= -5"; not "10-5")."""
    before = text[:at].rstrip()
    return not before or before[-1] in "(=,:;[+*/^x×" or before.endswith((" of", " is", " by", " and"))


# --- number words ----------------------------------------------------------------------------
UNITS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
TENS = {
    w: 10 * i
    for i, w in enumerate(["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
    if w != "_"
}
MULTIPLIERS = {"dozen": 12, "hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
WORD = "|".join([*UNITS, *TENS, *MULTIPLIERS, "a", "and"])
WORDS_RE = re.compile(rf"\b(?:{WORD})(?:[\s-]+(?:{WORD}))*\b", re.IGNORECASE)


def words_to_digits(text: str, spoken: dict[float, str] | None = None) -> str:
    """ "two to the power of ten" -> "2 to the power of 10". A lone "one" stays a word ("which one").
    spoken, if given, gets each number's words: answers restate a number the way the user said it."""

    def replace(match: re.Match) -> str:
        phrase = match.group(0)
        words = [w for w in re.split(r"[\s-]+", phrase.lower())]
        # trim the joining words at the edges ("and", "a") that are not part of the number
        lead = []
        while (
            words and words[0] in ("and", "a") and not (words[0] == "a" and len(words) > 1 and words[1] in MULTIPLIERS)
        ):
            lead.append(words.pop(0))
        trail: list[str] = []
        while words and words[-1] in ("and", "a"):
            trail.insert(0, words.pop())
        if not words or words == ["one"]:
            return phrase
        if all(w in MULTIPLIERS for w in words) and re.search(r"\d\s*$", match.string[: match.start()]):
            return phrase  # "2.5 million": the scale of the number before it
        if words == ["a", "dozen"] and re.search(r"\d\s*$", match.string[: match.start()]):
            return phrase  # "$4.50 a dozen": a price per dozen, not a count
        number = _words_value(words)
        if number is None:
            return phrase
        if spoken is not None:
            spoken[number] = " ".join(w for w in re.split(r"[\s-]+", phrase) if w.lower() not in lead + trail)
        return " ".join([*lead, f"{number:g}" if number < 1e15 else str(number), *trail])

    return WORDS_RE.sub(replace, text)


def _words_value(words: list[str]) -> float | None:
    total, current, seen = 0, 0, False
    for word in words:
        if word in UNITS:
            current += UNITS[word]
            seen = True
        elif word in TENS:
            current += TENS[word]
            seen = True
        elif word in MULTIPLIERS:
            current = max(current, 1) * MULTIPLIERS[word]
            if MULTIPLIERS[word] >= 1000:
                total, current = total + current, 0
            seen = True
        elif word == "a":
            current = max(current, 1) if not seen else current
        elif word != "and":
            return None
    return float(total + current) if seen else None


def decimals(text: str) -> int:
    """How many decimals a written number shows: "3.50" -> 2."""
    digits = re.search(r"\d[\d,]*(?:\.(\d+))?", text)
    return len(digits.group(1)) if digits and digits.group(1) else 0
