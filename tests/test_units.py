"""A bare number answers with its unit (qa/answering/units.py)."""

import pytest

from qa.answering.units import with_unit


def _widen(text: str, number: str) -> str:
    start = text.index(number)
    begin, end = with_unit(text, start, start + len(number))
    return text[begin:end]


@pytest.mark.parametrize(
    ("text", "number", "expected"),
    [
        ("The budget is EUR 1,200 per calendar year.", "1,200", "EUR 1,200"),
        ("Plus costs $5 a month.", "5", "$5"),
        ("Carry over up to 5 days.", "5", "5 days"),
        ("The pump needs 1.5 bar.", "1.5", "1.5 bar"),
        ("Storage: 5 TB, shared.", "5", "5 TB"),
        ("Load rose 20% this year.", "20", "20%"),
        ("It costs 40 euros.", "40", "40 euros"),
    ],
)
def test_a_bare_number_takes_the_unit_beside_it(text: str, number: str, expected: str) -> None:
    assert _widen(text, number) == expected


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Founded in 1976 in Berlin.", "1976"),  # no unit beside it
        ("Room 12 is on the left.", "12"),  # a word before it that is no currency
        ("Order part 300-0142 now.", "300"),  # inside an identifier
        ("It arrives at 5 in the morning.", "5"),
        ("Up to 3\ndays", "3"),  # a line break is a boundary
    ],
)
def test_other_numbers_stay_as_they_are(text: str, number: str) -> None:
    assert _widen(text, number) == number


def test_a_span_that_is_not_a_bare_number_is_left_alone() -> None:
    text = "Pay EUR 19 monthly."
    assert with_unit(text, 4, 10) == (4, 10)  # "EUR 19"
    assert with_unit(text, 0, 3) == (0, 3)


def test_a_huge_word_beside_a_number_is_read_only_a_few_characters_far() -> None:
    import time

    text = "1 " + "x" * 10_000_000 + " " + "y" * 10_000_000 + " 2"  # a 20 MB document's worth
    started = time.perf_counter()
    assert with_unit(text, 0, 1) == (0, 1)
    assert with_unit(text, len(text) - 1, len(text)) == (len(text) - 1, len(text))
    assert time.perf_counter() - started < 0.5  # 10 s when the scan followed the whole word
