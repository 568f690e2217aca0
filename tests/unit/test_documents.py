"""The documents the researcher reads (HTML, PDF, text), and its index kept under DATA_DIR, rebuilt only
for the files that changed."""

import os
import zlib
from pathlib import Path

from agents.documents import html_text, read_document, readable
from agents.knowledge import KnowledgeBase, split_document

PAGE = """<!DOCTYPE html><html><head><title>csv — CSV File Reading</title>
<script>var secret = "do not index";</script><style>body { color: red }</style></head>
<body><nav role="navigation"><a href="/">Home</a> Table of Contents</nav>
<div class="body" role="main">
<h1>csv — CSV File Reading and Writing<a class="headerlink" href="#x">¶</a></h1>
<p>The <code>csv</code> module implements classes to read and write tabular data.</p>
<h2>Module Contents</h2>
<pre># a comment in a code sample
reader = csv.reader(f)</pre>
<p>Each row read from the csv file is returned as a list of strings.</p>
</div>
<footer>Copyright 2001-2023</footer></body></html>"""


def test_html_is_read_as_its_main_text_with_its_headings():
    text = html_text(PAGE)
    chunks = split_document("library/csv.html", text)
    assert [c.heading for c in chunks] == [
        "csv — CSV File Reading and Writing",
        "csv — CSV File Reading and Writing > Module Contents",
    ]
    body = " ".join(c.text for c in chunks)
    assert "implements classes to read and write tabular data" in body
    assert "# a comment in a code sample" in body  # a comment, not a heading
    for left_out in ("do not index", "color: red", "Table of Contents", "Copyright", "¶", "<p>"):
        assert left_out not in body


def test_a_page_without_main_content_or_headings_is_its_body_named_by_its_title():
    chunks = split_document(
        "faq.html", html_text("<html><head><title>FAQ</title></head><body><p>Yes.</p></body></html>")
    )
    assert [(c.heading, c.text) for c in chunks] == [("FAQ", "Yes.")]


def pdf_with_pages(*pages: str) -> bytes:
    """A small real PDF whose pages show the given text (Helvetica, one line each)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        stream = zlib.compress(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
        content = len(objects) + 2
        kids.append(f"{len(objects) + 1} 0 R")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
            f"/Resources << /Font << /F1 {len(pages) * 2 + 3} 0 R >> >> >>"
        )
        objects.append((f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n", stream))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode()
        if isinstance(body, tuple):
            out += body[0].encode() + body[1] + b"\nendstream"
        else:
            out += body.encode()
        out += b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{at:010d} 00000 n \n" for at in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_a_pdf_is_read_page_by_page(tmp_path):
    path = tmp_path / "policy.pdf"
    path.write_bytes(pdf_with_pages("Refunds are paid within 14 days.", "# Shipping takes 3 days."))
    chunks = split_document("policy.pdf", read_document(path))
    assert [c.heading for c in chunks] == ["policy, page 1", "policy, page 2"]
    assert "Refunds are paid within 14 days." in chunks[0].text
    assert "# Shipping takes 3 days." in chunks[1].text  # a "#" in a PDF's text is not a heading
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    assert read_document(broken) == ""  # skipped, said in the log; the others are read


def test_build_and_hidden_folders_are_not_read():
    assert readable(Path("guide/setup.md"))
    assert not readable(Path("_static/theme.html"))
    assert not readable(Path(".git/description.txt"))
    assert not readable(Path("image.png"))


def test_the_index_is_kept_and_rebuilt_only_for_the_files_that_changed(tmp_path):
    folder, store = tmp_path / "docs", tmp_path / "data" / "knowledge"
    (folder / "guides").mkdir(parents=True)
    (folder / "refunds.md").write_text("# Refunds\nRefunds are paid within fourteen days of a return.\n")
    (folder / "guides" / "shipping.html").write_text("<h1>Shipping</h1><p>Parcels ship from Leeds by courier.</p>")
    (folder / "notes.txt").write_text("Opening hours are nine to five on weekdays.\n")

    first, built = KnowledgeBase.load(folder, store)
    assert (built.files, built.read, built.rebuilt) == (3, 3, True)
    assert first.search("where do parcels ship from", 4, 0.6)[0].chunk.path == "guides/shipping.html"

    again, reloaded = KnowledgeBase.load(folder, store)
    assert (reloaded.files, reloaded.read, reloaded.rebuilt) == (3, 0, False)  # the saved index, as it was
    assert again.search("where do parcels ship from", 4, 0.6)[0].chunk.path == "guides/shipping.html"

    changed = folder / "guides" / "shipping.html"
    changed.write_text("<h1>Shipping</h1><p>Parcels ship from Bristol by courier.</p>")
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    (folder / "notes.txt").unlink()
    updated, report = KnowledgeBase.load(folder, store)
    assert (report.files, report.read, report.removed, report.rebuilt) == (2, 1, 1, True)
    [passage] = [p for p in updated.search("parcels ship from Bristol", 4, 0.6)]
    assert "Bristol" in passage.chunk.text and not updated.search("opening hours weekdays", 4, 0.6)


def test_a_store_that_cannot_be_written_leaves_the_index_in_memory(tmp_path):
    folder, data = tmp_path / "docs", tmp_path / "data"
    folder.mkdir()
    (folder / "refunds.md").write_text("# Refunds\nRefunds are paid within fourteen days of a return.\n")
    data.write_text("")  # no folder can be made there, as on a container's read-only root filesystem (even as root)
    knowledge, report = KnowledgeBase.load(folder, data / "knowledge")
    assert report.rebuilt and knowledge.search("when are refunds paid", 4, 0.6)
