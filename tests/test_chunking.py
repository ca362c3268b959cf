from dataclasses import replace
from pathlib import Path

from qa.ingest.chunking import chunk_document, embedding_text, reader_passage
from qa.schema import Chunk, Document
from qa.text import sentence_spans


def _doc(text: str) -> Document:
    return Document(id="d1", source="a.txt", title="A", text=text, content_hash="h")


def test_sentences_respect_abbreviations_numbers_and_quotes() -> None:
    text = (
        'Mr. Smith paid $3.50 on Jan. 5. "It works," he said. The U.S. agreed!\n'
        "A headline without a stop\nYou have 43.57% left."
    )
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "Mr. Smith paid $3.50 on Jan. 5.",
        '"It works," he said.',
        "The U.S. agreed!",
        "A headline without a stop",
        "You have 43.57% left.",
    ]


def test_chunks_hold_whole_sentences_within_the_token_limit() -> None:
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(30))
    chunks = chunk_document(_doc(text), count_tokens=lambda t: len(t.split()), max_tokens=30, overlap_sentences=1)
    sentences = {text[s:e] for s, e in sentence_spans(text)}
    assert len(chunks) > 5
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert len(chunk.text.split()) <= 30
        assert all(part + "." in sentences for part in chunk.text.rstrip(".").split(". "))
    # Consecutive chunks overlap by one sentence.
    assert chunks[1].start < chunks[0].end


def test_an_overlong_sentence_is_its_own_chunk_never_split() -> None:
    long_sentence = "Word " + "word " * 99 + "end."
    text = f"Short one. {long_sentence} Short two."
    chunks = chunk_document(_doc(text), count_tokens=lambda t: len(t.split()), max_tokens=20)
    assert any(c.text == long_sentence.strip() for c in chunks)


def test_chunk_ids_are_stable_and_content_derived() -> None:
    text = "Alpha is first. Beta is second. Gamma is third."
    first = chunk_document(_doc(text), count_tokens=lambda t: len(t.split()), max_tokens=5)
    again = chunk_document(_doc(text), count_tokens=lambda t: len(t.split()), max_tokens=5)
    changed = chunk_document(_doc(text.replace("Gamma", "Delta")), count_tokens=lambda t: len(t.split()), max_tokens=5)
    assert [c.id for c in first] == [c.id for c in again]
    assert first[0].id == changed[0].id and first[-1].id != changed[-1].id


WRAPPED = """Harbour rules

The harbour master Idris Vale approves every crane permit on
Mondays, and permits are stamped in red ink by the clerk of the
northern quay. Questions go to the office before noon.

- Cranes lift only in daylight
- Boats under ten metres berth at the
  western pier, which is free on Sundays.
1. A numbered item
## A heading
A closing line.
"""


def test_line_wrapped_paragraphs_give_whole_sentences_with_exact_offsets() -> None:
    sentences = [WRAPPED[s:e] for s, e in sentence_spans(WRAPPED)]
    assert sentences == [
        "Harbour rules",
        "The harbour master Idris Vale approves every crane permit on\nMondays, and permits are stamped in red "
        "ink by the clerk of the\nnorthern quay.",
        "Questions go to the office before noon.",
        "- Cranes lift only in daylight",
        "- Boats under ten metres berth at the\n  western pier, which is free on Sundays.",
        "1. A numbered item",
        "## A heading",
        "A closing line.",
    ]


def test_a_short_line_without_a_stop_is_a_headline_not_a_wrap() -> None:
    text = "Istanbul trip\nZelensky met Erdogan at the palace on the shores of the Bosphorus on Friday."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Istanbul trip",
        "Zelensky met Erdogan at the palace on the shores of the Bosphorus on Friday.",
    ]


def test_chunks_never_cross_a_page_and_carry_it() -> None:
    text = "Page one has a sentence.\n\nPage two has one. And another one.\n\nPage three."
    pages = (0, text.index("Page two"), text.index("Page three"))
    document = Document(id="d1", source="a.pdf", title="A", text=text, content_hash="h", pages=pages)
    chunks = chunk_document(document, count_tokens=lambda t: len(t.split()), max_tokens=100, overlap_sentences=1)
    assert [(c.text, c.page) for c in chunks] == [
        ("Page one has a sentence.", 1),
        ("Page two has one. And another one.", 2),
        ("Page three.", 3),
    ]
    plain = chunk_document(_doc(text), count_tokens=lambda t: len(t.split()), max_tokens=100)
    assert [c.page for c in plain] == [None]


def test_the_readme_gives_whole_sentence_prose_spans() -> None:
    # Issue 16: with every newline ending a sentence, most prose spans of the README were
    # half-sentences. Prose here: outside code fences, not a heading or table row, 4+ words.
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    in_fence, fenced = False, []
    offset = 0
    for line in readme.splitlines(keepends=True):
        if line.strip().startswith("```"):
            in_fence = not in_fence
        elif in_fence:
            fenced.append((offset, offset + len(line)))
        offset += len(line)
    prose = [
        readme[s:e]
        for s, e in sentence_spans(readme)
        if not any(a <= s < b for a, b in fenced)
        and not readme[s:e].startswith(("#", "|", "```"))
        and len(readme[s:e].split()) >= 4
    ]
    assert len(prose) > 20
    unfinished = [p for p in prose if not p.rstrip("`*_)\"'”’]").endswith((".", "!", "?", ":", ";"))]
    assert unfinished == []


STRUCTURED = """Harbour guide

Cranes

The crane quota is twelve lifts. Permits are stamped in red ink.

It opened in 1920. The founder was Idris Vale.

Fees

Berthing costs forty euros. Water is free.
"""


def test_chunks_follow_paragraphs_and_headings() -> None:
    document = Document(id="d1", source="g.txt", title="Harbour guide", text=STRUCTURED, content_hash="h")
    chunks = chunk_document(document, count_tokens=lambda t: len(t.split()), max_tokens=16, overlap_sentences=1)
    assert [c.text for c in chunks] == [
        "Harbour guide\n\nCranes\n\nThe crane quota is twelve lifts. Permits are stamped in red ink.",
        "It opened in 1920. The founder was Idris Vale.",
        "Fees\n\nBerthing costs forty euros. Water is free.",
    ]
    # A chunk's path holds the headings above it, not those in its own text nor the title again.
    assert [c.headings for c in chunks] == [(), ("Cranes",), ()]
    # The paragraph that never names its subject is embedded with the title and its section.
    assert embedding_text(chunks[1]) == "Harbour guide > Cranes\nIt opened in 1920. The founder was Idris Vale."
    assert embedding_text(chunks[2]) == "Harbour guide\n" + chunks[2].text
    assert embedding_text(chunks[0]) == chunks[0].text
    for chunk in chunks:
        assert STRUCTURED[chunk.start : chunk.end] == chunk.text


def test_a_paragraph_over_the_limit_is_cut_between_sentences_with_overlap() -> None:
    text = "Intro line here.\n\n" + " ".join(f"Sentence {i} is here." for i in range(6))
    chunks = chunk_document(_doc(text), count_tokens=lambda t: len(t.split()), max_tokens=8, overlap_sentences=1)
    assert chunks[0].text == "Intro line here."  # the long paragraph did not fit beside it
    assert [c.text for c in chunks[1:3]] == [
        "Sentence 0 is here. Sentence 1 is here.",
        "Sentence 1 is here. Sentence 2 is here.",
    ]


MARKDOWN = """# Handbook

## Leave

### Annual leave

Staff get thirty days of annual leave a year.

### Sick leave

Report sick leave to your manager before nine.

## Equipment

A stolen laptop is reported to IT within one hour.
"""


def test_markdown_headings_nest_by_level() -> None:
    document = Document(id="d", source="d.md", title="Handbook", text=MARKDOWN, content_hash="h")
    chunks = chunk_document(document, count_tokens=lambda t: len(t.split()), max_tokens=10)
    by_text = {c.text: c.headings for c in chunks}
    assert by_text["Staff get thirty days of annual leave a year."] == ("Leave", "Annual leave")
    assert by_text["Report sick leave to your manager before nine."] == ("Leave", "Sick leave")
    # A level-two heading closes the level-three one under the previous level two.
    assert by_text["A stolen laptop is reported to IT within one hour."] == ("Equipment",)
    stolen = next(c for c in chunks if c.text.startswith("A stolen"))
    assert embedding_text(stolen) == "Handbook > Equipment\nA stolen laptop is reported to IT within one hour."


def test_unmarked_headings_nest_in_a_run_and_restart_after_text() -> None:
    # Word and HTML headings arrive as short lines alone (qa.ingest.formats), without levels.
    text = "Leave\n\nAnnual leave\n\nStaff get thirty days a year.\n\nEquipment\n\nLaptops are insured."
    document = Document(id="d", source="h.docx", title="Handbook", text=text, content_hash="h")
    chunks = chunk_document(document, count_tokens=lambda t: len(t.split()), max_tokens=3)
    assert {c.text: c.headings for c in chunks if c.text.endswith(".")} == {
        "Staff get thirty days a year.": ("Leave", "Annual leave"),
        "Laptops are insured.": ("Equipment",),
    }


def test_numbered_sections_on_pdf_lines_make_a_path() -> None:
    text = (
        "3 Operation\nThe unit starts when the lid is closed and the tank holds water.\n"
        "3.2 Control panel\nThe panel has four keys. The reset key is behind the flap.\n"
        "3.3 Display\nThe display shows the error code."
    )
    document = Document(id="d", source="m.pdf", title="Manual", text=text, content_hash="h", pages=(0,))
    chunks = chunk_document(document, count_tokens=lambda t: len(t.split()), max_tokens=10)
    by_text = {c.text: c.headings for c in chunks}
    assert by_text["The reset key is behind the flap."] == ("3 Operation", "3.2 Control panel")
    # A numbered heading starts a chunk of its own section, never the tail of the one before.
    assert by_text["3.3 Display\nThe display shows the error code."] == ("3 Operation",)


def test_a_table_row_carries_its_header_row() -> None:
    text = "Plans\n\nPlan | Storage | Price\n\nBasic | 1 TB | 5 euros\n\nPremium | 5 TB | 20 euros"
    document = Document(id="d", source="faq.docx", title="FAQ", text=text, content_hash="h")
    chunks = chunk_document(document, count_tokens=lambda t: len(t.split()), max_tokens=5)
    premium = next(c for c in chunks if c.text.startswith("Premium"))
    assert premium.headings == ("Plans", "Plan | Storage | Price")
    assert embedding_text(premium) == "FAQ > Plans > Plan | Storage | Price\nPremium | 5 TB | 20 euros"
    # Rows are never headings themselves.
    assert all("Basic" not in h for c in chunks for h in c.headings)


def test_markdown_table_header_skips_the_separator() -> None:
    text = "| Plan | Storage |\n|---|---|\n| Basic | 1 TB |\n| Premium | 5 TB |"
    document = Document(id="d", source="faq.md", title="FAQ", text=text, content_hash="h")
    chunks = chunk_document(document, count_tokens=lambda t: len(t.split()), max_tokens=4)
    assert [c.headings for c in chunks][-1] == ("Plan | Storage",)


def test_each_slide_starts_with_its_own_title() -> None:
    text = "Pricing\n\nPremium has 5 TB.\n\nSupport\n\nCall us at any hour."
    document = Document(
        id="d", source="deck.pptx", title="Deck", text=text, content_hash="h", pages=(0, text.index("Support"))
    )
    chunks = chunk_document(document, count_tokens=lambda t: len(t.split()), max_tokens=2)
    assert {c.text: c.headings for c in chunks if c.text[0] not in "PS"} == {"Call us at any hour.": ("Support",)}
    premium = next(c for c in chunks if c.text == "Premium has 5 TB.")
    assert premium.headings == ("Pricing",)


def test_the_reader_passage_holds_the_context_and_maps_spans_back() -> None:
    chunk = Chunk(
        id="c", doc_id="d", source="faq.md", title="FAQ", text="Storage: 5 TB.", start=40, end=54, headings=("Premium",)
    )
    passage = reader_passage(chunk)
    assert passage.text == "FAQ > Premium\nStorage: 5 TB."
    found = passage.text.index("5 TB")
    start, end = passage.chunk_span(found, found + 4) or (0, 0)
    assert chunk.text[start:end] == "5 TB"
    assert passage.chunk_span(passage.text.index("Premium"), passage.text.index("Premium") + 7) is None
    bare = replace(chunk, title="", headings=())
    assert reader_passage(bare).text == bare.text and reader_passage(bare).chunk_span(0, 7) == (0, 7)


def test_an_unmarked_heading_after_numbered_sections_is_their_sibling() -> None:
    # Word minutes: numbered agenda items, then "Action items" with a table.
    text = (
        "4. Customer board\n\nThe board meets in Berlin.\n\nAction items\n\nAction | Owner\n\n"
        "Book the venue | Lea Hoffmann"
    )
    document = Document(id="d", source="minutes.docx", title="Minutes", text=text, content_hash="h")
    chunks = chunk_document(document, count_tokens=lambda t: len(t.split()), max_tokens=5)
    row = next(c for c in chunks if c.text.startswith("Book"))
    assert row.headings == ("Action items", "Action | Owner")
