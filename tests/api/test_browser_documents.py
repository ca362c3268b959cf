"""The documents panel in real headless Chromium: upload through the page, ask, see the cited answer, delete.

``DOCUMENT_CASES`` is the list of formats the page is tried with: add a case (a file name, its
bytes made here, a question whose answer is only in it, that answer, and for a paged format the
page its citation must show) for each format the loader reads. The page, the API and the
background ingest are the same for all of them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from api import create_app
from tests.api.test_browser import CHROMIUM, ask
from tests.api.test_browser import browser as browser  # the module-scoped Chromium fixture
from tests.support import LiveServer, fast_service, fast_settings

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
]

ABSTAIN = "The documents don't cover this."
FACT = "The Kestrel Point lighthouse keeper is Orla Finch, who has kept the light since 2009."
FERRY_FACT = "The morning ferry to Kalymnos is captained by Nikos Arvanitis, who has sailed the route since 2014."
PDF_TITLE = "Kestrel Point harbour guide"
HARBOUR_PAGES = [
    "Kestrel Point harbour guide. The harbour opens at dawn and closes at dusk every day of the year.",
    "Permits. The harbour master of Kestrel Point is Idris Vale, who signs every permit for the cranes "
    "on the northern quay.",
    "Fees. Berthing at the harbour costs forty euros per night for boats under ten metres in length.",
]


def docx_bytes() -> bytes:
    """A Word file with a heading, a sentence split over runs (one bold), a second paragraph and a table."""
    import docx

    document = docx.Document()
    document.add_heading("Kalymnos ferry", level=1)
    before, after = FERRY_FACT.split("Kalymnos")
    paragraph = document.add_paragraph(before)
    paragraph.add_run("Kalymnos").bold = True
    paragraph.add_run(after)
    document.add_paragraph("Tickets are sold on board only.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Route", "Price"
    table.cell(1, 0).text, table.cell(1, 1).text = "Kos to Kalymnos", "nine euros"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_bytes(pages: list[str]) -> bytes:
    """A PDF with one page per text, each hard-wrapped over several lines."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(PDF_TITLE)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(90, 8, text)
    return bytes(pdf.output())


@dataclass(frozen=True)
class DocumentCase:
    """A file to upload through the page and the question only it answers."""

    name: str
    data: bytes
    mime: str
    question: str
    answer: str
    quote: str
    page: int | None = None  # the page the citation must show (PDF); None for formats without pages


DOCUMENT_CASES = [
    DocumentCase(
        "kestrel-point.txt",
        f"Kestrel Point lighthouse\n\n{FACT}\n".encode(),
        "text/plain",
        "Who is the Kestrel Point lighthouse keeper?",
        "Orla Finch",
        FACT,
    ),
    DocumentCase(
        "kestrel-point.md",
        f"# Kestrel Point lighthouse\n\n{FACT}\n".encode(),
        "text/markdown",
        "Who is the Kestrel Point lighthouse keeper?",
        "Orla Finch",
        FACT,
    ),
    DocumentCase(
        "kestrel-point.html",
        (
            "<!doctype html><html><head><title>Kestrel Point lighthouse</title></head>"
            f"<body><nav>Home | About</nav><main><p>{FACT}</p></main></body></html>"
        ).encode(),
        "text/html",
        "Who is the Kestrel Point lighthouse keeper?",
        "Orla Finch",
        FACT,
    ),
    DocumentCase(
        "kalymnos-ferry.docx",
        docx_bytes(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Who captains the morning ferry to Kalymnos?",
        "Nikos Arvanitis",
        FERRY_FACT,
    ),
    DocumentCase(
        "kestrel-harbour.pdf",
        pdf_bytes(HARBOUR_PAGES),
        "application/pdf",
        "Who is the harbour master of Kestrel Point?",
        "Idris Vale",
        HARBOUR_PAGES[1].removeprefix("Permits. "),
        page=2,
    ),
]


@pytest.fixture
def docs_server(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> LiveServer:
    return serve(create_app(service=fast_service(fast_settings(tmp_path))))


@pytest.fixture
def problems() -> list[str]:
    """Console errors and script errors of the page; a test removes the ones it causes on purpose."""
    return []


@pytest.fixture
def page(browser: Any, docs_server: LiveServer, problems: list[str]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete …?" confirmations
    page.goto(docs_server.url + "/")
    yield page
    context.close()
    assert problems == []  # CSP violations and script errors show up here


def row(page: Any, source: str) -> Any:
    """The documents panel's row for ``source``."""
    return page.locator(f'#doc-list li[data-source="{source}"]')


def wait_for_state(page: Any, source: str, text: str) -> None:
    """Wait until the row of ``source`` shows ``text`` as its state (the panel polls while indexing)."""
    row(page, source).locator(".state", has_text=text).wait_for(timeout=60_000)


@pytest.mark.parametrize("case", DOCUMENT_CASES, ids=lambda case: case.name)
def test_upload_ask_cite_delete_through_the_page(page: Any, case: DocumentCase) -> None:
    assert ask(page, case.question).locator(".answer").inner_text() == ABSTAIN

    page.click("#docs-open")
    wait_for_state(page, "zelensky-istanbul-turkish-drones.txt", "indexed")
    page.set_input_files("#doc-files", files=[{"name": case.name, "mimeType": case.mime, "buffer": case.data}])
    source = "uploads/" + case.name  # uploads live apart from the hand-placed seeds
    wait_for_state(page, source, "indexed")
    page.locator("#doc-status", has_text="All documents are indexed.").wait_for(timeout=5_000)

    bubble = ask(page, case.question)
    assert case.answer in bubble.locator(".answer").inner_text()
    first_source = bubble.locator(".sources li").first.inner_text()
    assert case.name in first_source
    bubble.locator("button.cite", has_text="[1]").click()
    mark = page.locator("#source-text mark")
    mark.wait_for()
    assert case.quote in " ".join(mark.inner_text().split())  # a PDF's sentence is wrapped over lines
    label = page.locator("#source-text .page-label")
    if case.page is None:
        assert ", p. " not in first_source and label.count() == 0
        assert ", page " not in page.locator("#source-meta").inner_text()
    else:
        # The source opens at the cited page: the sources list, the viewer's header and a label
        # right above the highlighted passage name it, and both are scrolled into view.
        assert first_source == f"[1] {PDF_TITLE} ({source}, p. {case.page})"
        assert page.locator("#source-meta").inner_text().startswith(f"{source}, page {case.page}, characters ")
        assert label.inner_text() == f"Page {case.page}"
        assert label.evaluate("l => l.nextElementSibling.tagName") == "MARK"
        in_view = "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
        assert label.evaluate(in_view) and mark.evaluate(in_view)

    page.click("#docs-open")
    assert page.locator("#docs").is_visible() and not page.locator("#source").is_visible()
    row(page, source).locator("button.delete").click()
    row(page, source).wait_for(state="detached", timeout=60_000)
    assert ask(page, case.question).locator(".answer").inner_text() == ABSTAIN
    # Deleted files wait in the trash: restoring one answers again.
    page.click("#docs-open")
    page.get_by_role("button", name=f"Restore {source}").click()
    wait_for_state(page, source, "indexed")
    assert case.answer in ask(page, case.question).locator(".answer").inner_text()


def test_dropped_file_is_uploaded_and_a_refused_one_says_why(page: Any, problems: list[str]) -> None:
    page.click("#docs-open")
    drop_file = """([name, text]) => {
        const data = new DataTransfer();
        data.items.add(new File([text], name, { type: "text/plain" }));
        document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
    }"""
    page.evaluate(drop_file, ["payload.exe", "MZ"])
    page.locator("#doc-status", has_text="not accepted").wait_for(timeout=10_000)
    assert row(page, "payload.exe").count() == 0
    assert len(problems) == 1 and "415" in problems[0]  # Chromium logs the refused request
    problems.clear()
    page.evaluate(drop_file, ["kestrel-point.txt", FACT])
    wait_for_state(page, "uploads/kestrel-point.txt", "indexed")
    assert "Orla Finch" in ask(page, "Who is the Kestrel Point lighthouse keeper?").locator(".answer").inner_text()
