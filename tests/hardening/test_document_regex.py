"""Every regex that sees a document or a question runs in linear time (issue 14, item 1).

Each case feeds the input that made the old pattern backtrack, at the largest size that reaches
it: a whole document of ``Settings().max_document_bytes`` for the loader and the chunker, a
question of ``Settings().max_question_chars`` for the sentence splitter at question time. Before
the fix the review timed the small versions at 9 s (markdown title, 2,000 spaces), 14 s
(boilerplate, 20,000 newlines) and 8 s (sentences, 20,000 dots); at these sizes they would run
for days. The bound is CPU time, so a busy machine does not make the test flaky.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qa.config import Settings
from qa.ingest.loading import load_file, strip_boilerplate
from qa.text import join_wrapped_lines, sentence_spans

MAX_DOCUMENT = Settings().max_document_bytes
MAX_QUESTION = Settings().max_question_chars
BOUND_S = 1.0


def _cpu_seconds(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def _padded(head: str, filler: str, tail: str, size: int) -> str:
    return head + filler * ((size - len(head.encode()) - len(tail.encode())) // len(filler.encode())) + tail


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("markdown title: '# a', spaces, 'b'", _padded("# a", " ", "b", MAX_DOCUMENT)),
        ("markdown title: '#', spaces, '#'", _padded("#", " ", "#", MAX_DOCUMENT)),
        ("boilerplate: newlines", "\n" * MAX_DOCUMENT),
        ("boilerplate: blank lines then a notice", _padded("", "\n", "Subscribe to continue", MAX_DOCUMENT)),
        ("boilerplate: spaces then a notice", _padded("", " ", "this article is reserved for", MAX_DOCUMENT)),
        ("paywall: digits", _padded("You have ", "1", "", MAX_DOCUMENT)),
        ("paywall: digit dot digit", _padded("You have 1", ".1", "", MAX_DOCUMENT)),
    ],
)
def test_loading_a_maximum_size_hostile_markdown_file_is_fast(name: str, text: str, tmp_path: Path) -> None:
    path = tmp_path / "hostile.md"
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size <= MAX_DOCUMENT
    try:
        seconds = _cpu_seconds(lambda: load_file(path, source="hostile.md", max_bytes=MAX_DOCUMENT))
    except ValueError:  # an all-blank file is refused as empty, after the same patterns ran
        seconds = _cpu_seconds(lambda: strip_boilerplate(text))
    assert seconds < BOUND_S, f"{name}: {seconds:.2f} s"


def test_the_loader_refuses_a_document_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("a" * (MAX_DOCUMENT + 1), encoding="utf-8")
    with pytest.raises(ValueError, match="QA_MAX_DOCUMENT_BYTES"):
        load_file(path, source="big.txt", max_bytes=MAX_DOCUMENT)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("dots", "." * MAX_DOCUMENT),
        ("dots then a closing quote", _padded("", ".", "”x", MAX_DOCUMENT)),
        ("closing quotes after a dot", _padded(".", ")", "x", MAX_DOCUMENT)),
        ("word, spaces, word", _padded("a", " ", "b", MAX_DOCUMENT)),
        ("a stop then spaces", _padded("Done.", " ", "", MAX_DOCUMENT)),
    ],
)
def test_splitting_a_maximum_size_hostile_document_into_sentences_is_fast(name: str, text: str) -> None:
    seconds = _cpu_seconds(lambda: sentence_spans(text))
    assert seconds < BOUND_S, f"{name}: {seconds:.2f} s"
    # The loader joins wrapped lines of every document the same way (qa.text.join_wrapped_lines).
    seconds = _cpu_seconds(lambda: join_wrapped_lines(text))
    assert seconds < BOUND_S, f"{name}, joining lines: {seconds:.2f} s"


@pytest.mark.parametrize("unit", ["Ab\n", " c.", "E4. 3.2 ", "3.2 Ab\n", "| a | b |\n"])
def test_lines_items_and_labels_take_linear_time(unit: str) -> None:
    # A dot before lower case once copied the sentence so far at each dot (item labels): quadratic.
    small, large = "Ab" + unit * 25_000, "Ab" + unit * 100_000
    for work in (sentence_spans, join_wrapped_lines):
        ratio = _cpu_seconds(lambda: work(large)) / max(_cpu_seconds(lambda: work(small)), 1e-3)  # noqa: B023
        assert ratio < 8, f"{work.__name__} on {unit!r}: 4x the text took {ratio:.1f}x the time"


@pytest.mark.parametrize("filler", [".", "!?", ". ", ".”", " "])
def test_splitting_a_maximum_length_question_is_fast(filler: str) -> None:
    question = _padded("Why", filler, "x", MAX_QUESTION)
    seconds = _cpu_seconds(lambda: [sentence_spans(question) for _ in range(100)])
    assert seconds < BOUND_S, f"100 questions of {filler!r}: {seconds:.2f} s"


def test_many_sentence_boundaries_take_linear_time() -> None:
    # Each boundary once copied the rest of the text (text[end:].lstrip()): quadratic.
    small, large = "Ab. " * 25_000, "Ab. " * 100_000
    assert len(sentence_spans(large)) == 100_000
    ratio = _cpu_seconds(lambda: sentence_spans(large)) / max(_cpu_seconds(lambda: sentence_spans(small)), 1e-3)
    assert ratio < 8, f"4x the text took {ratio:.1f}x the time"
