import logging
from pathlib import Path

import pytest

from qa.errors import NoDocumentsError
from qa.ingest.loading import load_documents, strip_boilerplate

PAYWALL = "You have 43.57% of this article left to read. The rest is for subscribers only."


def test_seed_article_loads_with_paywall_blanked(seeds_dir: Path) -> None:
    result = load_documents(seeds_dir)
    (document,) = result.documents
    raw = next(seeds_dir.iterdir()).read_text("utf-8")
    assert PAYWALL in raw
    assert "subscribers" not in document.text
    assert len(document.text) == len(raw)  # offsets into the file are preserved
    start = raw.index("Baykar company")
    assert document.text[start : start + 14] == "Baykar company"


def test_boilerplate_in_the_middle_keeps_offsets() -> None:
    text = f"First line.\n{PAYWALL}\nLast line."
    cleaned = strip_boilerplate(text)
    assert len(cleaned) == len(text)
    assert cleaned.index("Last line.") == text.index("Last line.")
    assert "%" not in cleaned


def test_formats_and_titles(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Drone notes\n\nThe TB2 is made by Baykar.\n", "utf-8")
    (tmp_path / "page.html").write_text(
        "<html><head><title>Shells</title><script>var x = 'hidden';</script></head>"
        "<body><nav>Menu Home</nav><main><p>Turkey supplies 155 mm shells.</p></main></body></html>",
        "utf-8",
    )
    (tmp_path / "plain.txt").write_text("Istanbul trip\nZelensky met Erdogan.\n", "utf-8")
    docs = {d.source: d for d in load_documents(tmp_path).documents}
    assert docs["notes.md"].title == "Drone notes"
    assert docs["page.html"].title == "Shells"
    assert "155 mm shells" in docs["page.html"].text
    assert "hidden" not in docs["page.html"].text and "Menu" not in docs["page.html"].text
    assert docs["plain.txt"].title == "Istanbul trip"


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    (tmp_path / "brief.pdf").write_bytes(_tiny_pdf("Baykar builds drones near Kyiv."))
    (document,) = load_documents(tmp_path).documents
    assert "Baykar builds drones near Kyiv." in document.text


def test_bad_files_are_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "good.txt").write_text("Baykar makes the TB2.", "utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "empty.md").write_text("   \n", "utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    with caplog.at_level(logging.WARNING):
        result = load_documents(tmp_path)
    assert [d.source for d in result.documents] == ["good.txt"]
    assert {s.source for s in result.skipped} == {"binary.txt", "latin1.txt", "empty.md", "broken.pdf"}
    for name in ("binary.txt", "latin1.txt", "empty.md", "broken.pdf"):
        assert name in caplog.text


def test_empty_or_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NoDocumentsError, match="No documents"):
        load_documents(tmp_path)
    with pytest.raises(NoDocumentsError, match="does not exist"):
        load_documents(tmp_path / "nope")


def _tiny_pdf(text: str) -> bytes:
    """A minimal one-page PDF with one line of Helvetica text."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_reader_that_raises_anything_skips_only_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As on `pip install .` without lxml_html_clean: trafilatura raised ImportError and nothing was indexed.
    from qa.ingest import formats

    def broken(raw: str) -> formats.Extracted:
        raise ImportError("lxml.html.clean module is now a separate project lxml_html_clean")

    monkeypatch.setattr(formats, "read_html", broken)
    (tmp_path / "page.html").write_text("<p>Shells.</p>", "utf-8")
    (tmp_path / "notes.txt").write_text("Baykar makes the TB2.", "utf-8")
    result = load_documents(tmp_path)
    assert [d.source for d in result.documents] == ["notes.txt"]
    (skipped,) = result.skipped
    assert skipped.source == "page.html"
    assert "ImportError" in skipped.reason and "lxml_html_clean" in skipped.reason
