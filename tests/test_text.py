"""qa/text.py: wrapped lines joined in place, and no sentence or answer span across a heading,
list item or table cell."""

from __future__ import annotations

import pytest

from qa.text import (
    block_spans,
    clip_to_block,
    in_heading_line,
    is_item_label,
    join_wrapped_lines,
    section_number,
    sentence_spans,
    tidy_span,
)

MANUAL = (
    "Troubleshooting\n"
    "The dispenser shows a code on its display when it stops. Each code names\n"
    "one fault, and the display keeps it until the fault is cleared.\n"
    "E1. Water supply interrupted\n"
    "E4. Incoming pressure too low\n"
    "3.2 Control panel\n"
    "The control panel has four keys and a reset button behind the flap.\n"
    "| Key | Action |\n"
    "| Reset | Clears the code |\n"
)


def test_wrapped_lines_read_as_one_line_at_the_same_offsets() -> None:
    joined = join_wrapped_lines(MANUAL)
    assert len(joined) == len(MANUAL)
    assert "Each code names one fault, and the display" in joined
    # Headings, items and table rows keep their own lines.
    assert joined.count("\n") == MANUAL.count("\n") - 1
    for line in ("E1. Water supply interrupted", "3.2 Control panel", "| Key | Action |"):
        assert f"\n{line}\n" in joined
    assert join_wrapped_lines(joined) == joined


def test_windows_line_ends_join_too() -> None:
    text = "The filter is made by Clearstream\r\nTechnologies GmbH, which services it.\r\n"
    assert join_wrapped_lines(text).startswith("The filter is made by Clearstream  Technologies GmbH,")


def test_a_headline_after_a_finished_sentence_keeps_its_own_line() -> None:
    # A PDF page has no blank lines: an unnumbered heading follows the last line of the paragraph above.
    page = (
        "Issued 2 June 2026 by the Facilities team. Review is due in June of the\n"
        "following year.\n"
        "Purpose\n"
        "This procedure tells everyone in the office how to leave the building\n"
        "when the alarm sounds.\n"
        "The big\n"
        "red door on the ground floor stays shut at all times unless the fire brigade opens it.\n"
    )
    sentences = [page[s:e].replace("\n", " ") for s, e in sentence_spans(page)]
    assert sentences == [
        "Issued 2 June 2026 by the Facilities team.",
        "Review is due in June of the following year.",
        "Purpose",
        "This procedure tells everyone in the office how to leave the building when the alarm sounds.",
        # a short line that the next line continues is no headline
        "The big red door on the ground floor stays shut at all times unless the fire brigade opens it.",
    ]
    assert "\nPurpose\nThis procedure" in join_wrapped_lines(page)


def test_a_plain_text_table_keeps_a_line_per_row() -> None:
    # No leading "|": cells joined by " | ", as a .txt file or a Word table gives them.
    text = "Prices per plan are below.\nPlan  | Price | Storage\nBasic | EUR 9 | 10 GB\nPlus  | EUR 19 | 100 GB\n"
    assert join_wrapped_lines(text) == text
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Prices per plan are below.",
        "Plan  | Price | Storage",
        "Basic | EUR 9 | 10 GB",
        "Plus  | EUR 19 | 100 GB",
    ]


def test_sentences_stop_at_items_and_numbered_sections() -> None:
    sentences = [MANUAL[s:e] for s, e in sentence_spans(join_wrapped_lines(MANUAL))]
    assert sentences == [
        "Troubleshooting",
        "The dispenser shows a code on its display when it stops.",
        "Each code names one fault, and the display keeps it until the fault is cleared.".replace(
            "names one", "names\none"
        ),
        "E1. Water supply interrupted",
        "E4. Incoming pressure too low",
        "3.2 Control panel",
        "The control panel has four keys and a reset button behind the flap.",
        "| Key | Action |",
        "| Reset | Clears the code |",
    ]


def test_a_span_across_an_item_and_a_heading_is_clipped_to_one_block() -> None:
    # Issue 28: an answer ran across a heading ("E1. 3.2 Control panel").
    text = join_wrapped_lines(MANUAL)
    start, end = text.index("Incoming"), text.index("Control panel") + len("Control panel")
    clipped = clip_to_block(text, start, end)
    assert text[slice(*clipped)] == "Incoming pressure too low"
    inside = (text.index("four keys"), text.index("four keys") + 9)
    assert clip_to_block(text, *inside) == inside
    assert all("\n" not in text[s:e] for s, e in block_spans(text))
    # The answerers tidy every reader span this way.
    assert text[slice(*tidy_span(text, start, end))] == "Incoming pressure too low"


def test_section_numbers() -> None:
    assert [section_number(line) for line in ("3.2 Control panel", "3. Fees", "4.1.2 Seals", "1.5 million euros")] == [
        2,
        1,
        3,
        0,
    ]


def test_a_span_across_table_cells_keeps_one_cell() -> None:
    text = "| Plan | Storage |\n| Premium | 5 TB |\nThe Premium plan | the one | most teams pick."
    start = text.index("Premium")
    assert text[slice(*clip_to_block(text, start, text.index("TB") + 2))] == "Premium"  # the larger piece
    assert text[slice(*clip_to_block(text, start + 5, text.index("TB") + 2))] == "5 TB"
    assert text[slice(*tidy_span(text, start, start + len("Premium | 5")))] == "Premium"
    # Word rows join cells with " | " and have no leading bar.
    row = "Premium | 5 TB | 20 euros"
    assert row[slice(*clip_to_block(row, 5, 14))] == "5 TB"
    # A bar in prose is not a cell boundary.
    prose = "Use the pipe character (|) to chain commands."
    assert clip_to_block(prose, 4, 30) == (4, 30)


@pytest.mark.parametrize(
    ("label", "expected"),
    [("6.1", True), ("4", True), ("4.", True), ("12", False), ("2.2", False), ("10", False)],
)
def test_an_item_label_is_the_number_that_opens_a_section_or_list_item(label: str, expected: bool) -> None:
    text = "Intro\n6.1 Every document is in a class:\n4. Stop work.\n12 months of support\nVersion 2.2.\n10 Main St."
    start = text.index(label)
    assert is_item_label(text, start, start + len(label)) is expected


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("Data classification", True),  # "## 6. Data classification"
        ("Control panel", True),  # "3.2 Control panel"
        ("four classes", False),  # "6.1 Every document ... four classes:": an item, not a heading
        ("Restricted", False),  # a table cell
        ("EUR 12", False),  # a sentence
        ("10 GB", False),  # "10 GB storage": a bullet, not a numbered heading
    ],
)
def test_a_span_on_a_heading_line_is_found(phrase: str, expected: bool) -> None:
    text = (
        "## 6. Data classification\n\n6.1 Every document belongs to one of four classes:\n"
        "| Restricted | Salaries |\n3.2 Control panel\nPlus costs EUR 12.\n10 GB storage"
    )
    start = text.index(phrase)
    assert in_heading_line(text, start, start + len(phrase)) is expected
