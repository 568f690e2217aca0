"""The documents the researcher reads, as text with headings: Markdown and plain text as they are, HTML
as its text (its main content, without tags, scripts or navigation), PDF page by page.

Each reader gives Markdown-style text ("# heading" lines), so that one splitter (knowledge.py) chunks
every kind the same way and a passage keeps its file and heading. In HTML and PDF text the headings
are marked (HEADING_MARK), and only marked lines are headings there.
"""

from __future__ import annotations

import io
import logging
from html.parser import HTMLParser
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError

log = logging.getLogger(__name__)
TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".rst"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
SKIPPED_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "template", "svg", "form", "button"}
SKIPPED_ROLES = {"navigation", "search", "banner", "contentinfo"}
BLOCK_TAGS = {"p", "div", "li", "tr", "br", "pre", "section", "article", "dt", "dd", "table", "blockquote"}
HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Marks the lines that are a page's own headings, so that a "# comment" in a code sample is not one.
HEADING_MARK = "\x00"
VOID_TAGS = {"br", "img", "hr", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


def readable(path: Path) -> bool:
    """A file the researcher reads: a known kind, not inside a hidden or build folder (`.git`, `_static`)."""
    return path.suffix.lower() in SUFFIXES and not any(part.startswith((".", "_")) for part in path.parts[:-1])


def read_document(path: Path) -> str:
    """The file's text, with its headings as "# heading" lines; "" for a file that cannot be read."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        return _pdf_text(path.read_bytes(), path.stem)
    text = path.read_text(errors="replace")
    return html_text(text) if suffix in HTML_SUFFIXES else text


def html_text(html: str) -> str:
    reader = _HTMLText()
    reader.feed(html)
    reader.close()
    return reader.text()


class _HTMLText(HTMLParser):
    """The text of a page: its main content (`<main>` or role="main") when it marks one, else the body;
    never scripts, styles or navigation. Headings become "# heading" lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, skipped, main) of each open element
        self.everything: list[str] = []
        self.main: list[str] = []
        self.heading: list[str] | None = None
        self.title = ""
        self.in_title = False

    @property
    def skipping(self) -> bool:
        return any(skipped for _, skipped, _ in self.stack)

    @property
    def in_main(self) -> bool:
        return any(main for _, _, main in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in VOID_TAGS:
            if tag == "br":
                self._add("\n")
            return
        found = dict(attrs)
        skipped = tag in SKIPPED_TAGS or (found.get("role") or "") in SKIPPED_ROLES
        main = tag == "main" or found.get("role") == "main"
        self.stack.append((tag, skipped, main))
        if tag in HEADINGS and not self.skipping:
            self.heading = []
        elif tag in BLOCK_TAGS:
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in HEADINGS and self.heading is not None:
            words = " ".join("".join(self.heading).replace("¶", "").split())
            self.heading = None
            if words:
                self._add(f"\n{HEADING_MARK}{'#' * HEADINGS[tag]} {words}\n")
        elif tag in BLOCK_TAGS:
            self._add("\n")
        for at in range(len(self.stack) - 1, -1, -1):  # HTML closes what it left open
            if self.stack[at][0] == tag:
                del self.stack[at:]
                break

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
            return
        if self.skipping:
            return
        if self.heading is not None:
            self.heading.append(data)
        else:
            self._add(data)

    def _add(self, text: str) -> None:
        if self.skipping:
            return
        self.everything.append(text)
        if self.in_main:
            self.main.append(text)

    def text(self) -> str:
        body = "".join(self.main if "".join(self.main).strip() else self.everything)
        lines = [" ".join(line.split()) for line in body.replace("¶", "").splitlines()]
        text = "\n".join(line for line in lines if line)
        if not text.startswith(HEADING_MARK) and self.title.strip():  # a page with no heading is named by its title
            text = f"{HEADING_MARK}# {' '.join(self.title.split())}\n{text}"
        return text


def _pdf_text(data: bytes, name: str) -> str:
    """A PDF's text, one "# page N" section a page (a PDF's own headings are not marked in its text)."""
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, OSError) as error:
        log.warning("could not read the PDF %s: %s", name, error)
        return ""
    return "\n".join(
        f"{HEADING_MARK}# {name}, page {n}\n{text}" for n, text in enumerate(pages, start=1) if text.strip()
    )
