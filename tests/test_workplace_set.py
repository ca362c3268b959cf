"""The workplace test set (tests/data/workplace/): its shape, its offsets, and that the script rebuilds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from qa.evaluation.testset import read_jsonl
from qa.ingest.loading import load_documents
from scripts.make_workplace_set import DOCUMENTS as CORPUS
from scripts.make_workplace_set import locate, make_documents, page_of
from tests.support import REPO

FOLDER = REPO / "tests/data/workplace"
FORMATS = {".txt", ".md", ".html", ".pdf", ".docx", ".pptx"}
ROWS = [json.loads(line) for line in (FOLDER / "questions.jsonl").read_text("utf-8").splitlines() if line]
DOCUMENTS = {d.source: d for d in load_documents(FOLDER / CORPUS).documents}
REFRESH = "rerun `python scripts/make_workplace_set.py --offsets` after a change to text extraction"


def test_every_supported_format_is_present() -> None:
    assert {Path(source).suffix for source in DOCUMENTS} == FORMATS
    assert len(DOCUMENTS) >= 8


def test_the_set_has_the_required_size_and_share_of_unanswerable_questions() -> None:
    evalset = read_jsonl(FOLDER / "questions.jsonl")  # the format `qa eval` reads
    unanswerable = [case for case in evalset.cases if not case.answerable]
    assert len(evalset.cases) >= 100
    assert len(unanswerable) >= 0.25 * len(evalset.cases)
    assert all(not case.answers and not case.evidence for case in unanswerable)
    assert all(case.answers and case.evidence for case in evalset.cases if case.answerable)
    asked_of = {e["source"] for row in ROWS for e in row["evidence"]}
    assert asked_of == set(DOCUMENTS), "every document is the evidence of some question"


def test_every_evidence_quote_is_the_loaded_text_at_its_offsets() -> None:
    for row in ROWS:
        for evidence in row["evidence"]:
            document = DOCUMENTS[evidence["source"]]
            assert document.text[evidence["start"] : evidence["end"]] == evidence["quote"], (row["id"], REFRESH)
            if document.pages:
                assert evidence["page"] == page_of(document.pages, evidence["start"]), row["id"]
            else:
                assert "page" not in evidence, row["id"]


def test_the_issue_cases_are_in_the_set() -> None:
    questions = {row["question"]: row for row in ROWS}
    assert questions["What does error code E4 mean?"]["answers"][0] == "the incoming water pressure is too low"
    assert "6 months" in questions["How often should the CF-300 filter cartridge be replaced?"]["answers"][0]
    assert questions["What should I do if my laptop is stolen?"]["type"] == "how-to"
    assert questions["Who manufactures the AquaPure 500?"]["answers"][0] == "Clearstream Technologies GmbH"
    # the PDF's own line break falls inside the manufacturer's name, as in the issue
    first_page = PdfReader(FOLDER / CORPUS / "aquapure-500-manual.pdf").pages[0].extract_text()
    assert "Clearstream\nTechnologies GmbH" in first_page


def test_locate_matches_across_line_breaks_and_prefers_the_nearest_occurrence() -> None:
    text = "E4 low\npressure. E7 lamp. E4 low pressure."
    assert locate(text, "E4 low pressure.", near=0) == (0, 16)
    assert locate(text, "E4 low pressure.", near=30) == (26, 42)
    assert locate(text, "E7  lamp") == (17, 24)
    with pytest.raises(ValueError, match="occurs 2 times"):
        locate(text, "E4 low pressure.")
    with pytest.raises(ValueError, match="not in the text"):
        locate(text, "E12")


def test_the_script_rebuilds_the_committed_documents(tmp_path: Path) -> None:
    made = make_documents(tmp_path)
    rebuilt = {d.source: d for d in load_documents(tmp_path).documents}
    assert {path.name for path in made} == set(rebuilt)
    for source, document in rebuilt.items():
        assert document.text == DOCUMENTS[source].text, f"{source}: rerun python scripts/make_workplace_set.py"
        assert document.pages == DOCUMENTS[source].pages
