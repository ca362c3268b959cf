"""Word, PowerPoint, PDF and HTML files, each made here by the test itself, answer with exact
citations; PDF and PPTX citations carry their page (slide)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import HashingEmbedder, QAService, Settings
from qa.ingest import formats
from qa.ingest.formats import MAX_ARCHIVE_MEMBERS
from qa.ingest.loading import load_documents, load_file
from qa.schema import Answer
from qa.text import sentence_spans
from tests.support import HASHING, settings_under, write_scanned_pdf


def _service(tmp_path: Path, seeds: Path) -> QAService:
    service = QAService(settings_under(tmp_path, seeds_dir=seeds, **HASHING), embedder=HashingEmbedder())
    service.ingest()
    return service


def _assert_exact(service: QAService, answer: Answer) -> None:
    assert answer.status == "answered", answer.message
    for citation in answer.citations:
        assert service.document(citation.doc_id).text[citation.start : citation.end] == citation.quote


# PDF ------------------------------------------------------------------------------------------

PDF_PAGES = [
    "Harbour handbook. The harbour opens at dawn and closes at dusk every day of the year.",
    "Cranes. The crane quota at the northern quay is twelve lifts per day, counted from the first "
    "lift after dawn, and the harbour master Idris Vale signs every permit for the cranes.",
    "Fees. Berthing costs forty euros per night for boats under ten metres in length.",
]


def _write_pdf(path: Path, pages: list[str]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Harbour handbook")
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(90, 8, text)  # narrow: the PDF holds the sentences hard-wrapped over lines
    pdf.output(str(path))


def test_pdf_citations_carry_their_page_and_whole_sentences(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    _write_pdf(seeds / "handbook.pdf", PDF_PAGES)
    (document,) = load_documents(seeds).documents
    assert document.title == "Harbour handbook" and len(document.pages) == 3
    assert [document.page_at(document.text.index(word)) for word in ("dawn", "quota", "Berthing")] == [1, 2, 3]
    service = _service(tmp_path, seeds)
    answer = service.ask("What is the crane quota at the northern quay?")
    _assert_exact(service, answer)
    citation = answer.citations[0]
    assert citation.page == 2
    assert "twelve lifts per day" in citation.quote
    # The sentence was wrapped over several PDF lines; the quote is still the whole sentence, on one line.
    assert citation.quote.startswith("The crane quota") and citation.quote.endswith("for the cranes.")
    assert "\n" not in citation.quote  # the wrapped lines read as one line
    assert answer.to_dict()["citations"][0]["page"] == 2
    assert all(chunk.page in (1, 2, 3) for chunk in (hit.chunk for hit in answer.hits))


def test_a_pdf_answer_reads_as_one_line_with_exact_offsets(tmp_path: Path) -> None:
    # Issue 28: an answer from a PDF read "Clearstream\nTechnologies GmbH".
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(80, 8, CLEARSTREAM)  # wraps after "serviced by Clearstream"
    pdf.output(str(seeds / "manual.pdf"))
    (document,) = load_documents(seeds).documents
    assert "Clearstream Technologies GmbH" in document.text and "\n" not in document.text.strip()
    service = _service(tmp_path, seeds)
    answer = service.ask("Who services the CF-300 filter unit?")
    _assert_exact(service, answer)
    assert "Clearstream Technologies GmbH" in answer.citations[0].quote
    for text in (answer.answer, answer.sentence, *(c.quote for c in answer.citations)):
        assert text and "\n" not in text


def test_the_workplace_manual_names_its_maker_on_one_line(tmp_path: Path) -> None:
    # The issue's own PDF case: the manual breaks the line inside the maker's name.
    manual = Path(__file__).parent / "data" / "workplace" / "documents" / "aquapure-500-manual.pdf"
    from pypdf import PdfReader

    assert "Clearstream\nTechnologies GmbH" in "".join(page.extract_text() for page in PdfReader(manual).pages)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / manual.name).write_bytes(manual.read_bytes())
    service = _service(tmp_path, seeds)
    answer = service.ask("Who designed and manufactured the AquaPure 500?")
    _assert_exact(service, answer)
    assert "Clearstream Technologies GmbH" in answer.citations[0].quote
    for text in (answer.answer, answer.sentence, answer.citations[0].quote):
        assert text and "\n" not in text


CLEARSTREAM = (
    "Warranty. The CF-300 filter unit is made and serviced by Clearstream Technologies GmbH of Munich, "
    "which answers warranty claims within ten working days of receiving them."
)


# DOCX -----------------------------------------------------------------------------------------


def test_docx_paragraphs_headings_and_tables_are_read(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Ferry timetable", level=1)
    paragraph = document.add_paragraph("The morning ferry to ")
    paragraph.add_run("Kalymnos").bold = True
    paragraph.add_run(" leaves at seven from the western pier.")
    document.add_paragraph("Tickets are sold on board only.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Route", "Price"
    table.cell(1, 0).text, table.cell(1, 1).text = "Kos to Kalymnos", "nine euros"
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    document.save(str(seeds / "ferry.docx"))

    loaded = load_file(seeds / "ferry.docx", source="ferry.docx")
    assert loaded.title == "Ferry timetable" and loaded.pages == ()
    sentences = [loaded.text[s:e] for s, e in sentence_spans(loaded.text)]
    # A bold run inside the sentence does not split it.
    assert "The morning ferry to Kalymnos leaves at seven from the western pier." in sentences
    assert "Kos to Kalymnos | nine euros" in sentences
    service = _service(tmp_path, seeds)
    answer = service.ask("Which pier does the morning ferry to Kalymnos leave from?")
    _assert_exact(service, answer)
    assert "leaves at seven" in answer.citations[0].quote and answer.citations[0].page is None


def test_broken_docx_is_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (tmp_path / "good.txt").write_text("The pier opens at six.", "utf-8")
    result = load_documents(tmp_path)
    assert [d.source for d in result.documents] == ["good.txt"]
    assert [s.source for s in result.skipped] == ["broken.docx"] and "Word" in result.skipped[0].reason


# PPTX -----------------------------------------------------------------------------------------


def test_pptx_slides_are_pages(tmp_path: Path) -> None:
    import pptx

    presentation = pptx.Presentation()
    for heading, body in [
        ("Lighthouse keepers", "Keepers rotate every fortnight."),
        ("Lamp", "The lamp is cleaned every Tuesday by the second keeper."),
    ]:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = heading
        slide.placeholders[1].text = body
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    presentation.save(str(seeds / "keepers.pptx"))
    loaded = load_file(seeds / "keepers.pptx", source="keepers.pptx")
    assert loaded.title == "Lighthouse keepers" and len(loaded.pages) == 2
    service = _service(tmp_path, seeds)
    answer = service.ask("Which keeper cleans the lamp every Tuesday?")
    _assert_exact(service, answer)
    assert answer.citations[0].quote == "The lamp is cleaned every Tuesday by the second keeper."
    assert answer.citations[0].page == 2


# HTML -----------------------------------------------------------------------------------------

PAGE = """<!doctype html><html><head><title>TB2 drone profile</title>
<script>var tracking = 'hidden-script';</script><style>.x{color:red}</style></head>
<body>
<header><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About us</a></header>
<nav><ul><li><a href="/a">Menu item one</a></li><li><a href="/b">Menu item two</a></li></ul></nav>
<article>
<h1>The TB2 drone</h1>
<p>The Bayraktar TB2 is made by <a href="/baykar">Baykar</a>, a Turkish firm.</p>
<p>It can stay in the air for <b>twenty-seven hours</b> and carries
   four laser-guided munitions under its wings.</p>
<p>Ukraine bought its first batch in 2019, and more followed after 2022 as the war went on.</p>
</article>
<footer>Copyright 2024 Example News. All rights reserved. Cookie settings.</footer>
</body></html>"""


def test_html_main_text_without_navigation_and_with_inline_tags_joined(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "tb2.html").write_text(PAGE, "utf-8")
    loaded = load_file(seeds / "tb2.html", source="tb2.html")
    assert loaded.title in ("TB2 drone profile", "The TB2 drone")  # <title> or the article's heading
    for noise in ("hidden-script", "Menu item", "About us", "Copyright", "color:red"):
        assert noise not in loaded.text
    sentences = [loaded.text[s:e] for s, e in sentence_spans(loaded.text)]
    assert "The Bayraktar TB2 is made by Baykar, a Turkish firm." in sentences
    assert (
        "It can stay in the air for twenty-seven hours and carries four laser-guided munitions under its wings."
        in sentences
    )
    service = _service(tmp_path, seeds)
    answer = service.ask("Who makes the Bayraktar TB2?")
    _assert_exact(service, answer)
    assert answer.citations[0].quote == "The Bayraktar TB2 is made by Baykar, a Turkish firm."


@pytest.mark.parametrize(
    "html",
    [
        "<p>made by <a>Baykar</a>, a Turkish firm.</p>",
        "<html><body><p>made by <a href='/b'>Baykar</a>, a Turkish firm.</p></body></html>",
    ],
)
def test_an_inline_link_does_not_split_a_sentence(tmp_path: Path, html: str) -> None:
    (tmp_path / "snippet.html").write_text(html, "utf-8")
    loaded = load_file(tmp_path / "snippet.html", source="snippet.html")
    assert [loaded.text[s:e] for s, e in sentence_spans(loaded.text)] == ["made by Baykar, a Turkish firm."]


def test_a_scanned_pdf_is_skipped_as_having_no_text_layer(tmp_path: Path) -> None:
    write_scanned_pdf(tmp_path / "scan.pdf")
    (tmp_path / "good.txt").write_text("The pier opens at six.", "utf-8")
    result = load_documents(tmp_path)
    assert [d.source for d in result.documents] == ["good.txt"]
    (skipped,) = result.skipped
    assert skipped.source == "scan.pdf"
    assert skipped.reason == "no text layer (a scanned image?); OCR is not supported"


# Zip bombs ------------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, int]) -> Path:
    """A zip of members of that many zero bytes each (zeros deflate about 1000:1)."""
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, size in members.items():
            with archive.open(name, "w") as member:
                for start in range(0, size, 1 << 20):
                    member.write(bytes(min(1 << 20, size - start)))
    return path


@pytest.fixture
def never_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-docx and python-pptx fail the test if asked to open anything."""
    import docx
    import pptx

    def refuse(*args: object) -> None:
        raise AssertionError("an Office library opened a file that should have been refused first")

    monkeypatch.setattr(docx, "Document", refuse)
    monkeypatch.setattr(pptx, "Presentation", refuse)


@pytest.mark.usefixtures("never_opened")
def test_an_office_file_with_too_many_members_is_skipped_unopened(tmp_path: Path) -> None:
    members = dict.fromkeys((f"word/part{n}.xml" for n in range(MAX_ARCHIVE_MEMBERS + 1)), 0)
    _zip(tmp_path / "many.docx", members)
    (tmp_path / "good.txt").write_text("The pier opens at six.", "utf-8")
    result = load_documents(tmp_path)
    assert [d.source for d in result.documents] == ["good.txt"]
    (skipped,) = result.skipped
    assert skipped.reason.startswith(f"the Word file holds {MAX_ARCHIVE_MEMBERS + 1:,} files, over the 5,000 limit")
    assert "QA_MAX_ARCHIVE_MEMBERS" in skipped.reason


@pytest.mark.usefixtures("never_opened")
def test_an_office_file_that_unzips_past_the_limit_is_skipped_unopened(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.pptx", {"[Content_Types].xml": 0, "ppt/slides/slide1.xml": 128 << 20})
    assert bomb.stat().st_size < 1 << 20  # 128 MiB inside a file under 1 MiB
    (skipped,) = load_documents(tmp_path).skipped
    assert skipped.reason.startswith("the PowerPoint file unzips to 134,217,728 bytes, over the 104,857,600-byte limit")
    # The limits are settings: a smaller one skips a smaller archive.
    _zip(tmp_path / "bomb.pptx", {"ppt/slides/slide1.xml": 2 << 20})
    limits = Settings(_env_file=None, max_archive_unzipped_bytes=1 << 20).zip_limits  # type: ignore[call-arg]
    (skipped,) = load_documents(tmp_path, zip_limits=limits).skipped
    assert "QA_MAX_ARCHIVE_UNZIPPED_BYTES" in skipped.reason


def test_a_member_that_unzips_past_its_declared_size_stops_there(tmp_path: Path) -> None:
    import struct
    import zipfile

    # A member that claims 1,000 bytes while it inflates to 64 MiB: the limit check sees 1,000,
    # and zipfile stops reading there (then fails the CRC), so no reader can be made to hold more.
    path = _zip(tmp_path / "liar.docx", {"word/document.xml": 64 << 20})
    data = bytearray(path.read_bytes())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 22 : local + 26] = data[central + 24 : central + 28] = struct.pack("<I", 1000)
    path.write_bytes(bytes(data))
    formats.check_zip(path, formats.ZipLimits(), kind="Word file")  # within the limits as declared
    with zipfile.ZipFile(path) as archive, pytest.raises(zipfile.BadZipFile, match="CRC"):
        archive.read("word/document.xml")
    (skipped,) = load_documents(tmp_path).skipped  # and the loader skips it with a reason
    assert skipped.source == "liar.docx" and skipped.reason
