"""A bare number answers with its unit: "EUR 1,200", not "1,200"; "30 days", not "30" (issue 28).

The reader's span sometimes stops at the digits; a number alone does not say whether it is euros
or dollars, days or months. ``with_unit`` widens such a span by the currency or unit of measure
written right beside it, and leaves every other span as it is. It reads at most a dozen
characters on either side.
"""

from __future__ import annotations

from qa.answering.agreement import is_currency

_TIME = ("second", "minute", "hour", "day", "week", "month", "year")
_MEASURES = (
    "% percent ms s min h kb mb gb tb kbit mbit gbit bar psi pa kpa hpa ml l litre litres liter liters "
    "mg g kg mm cm m km ft mph kmh km/h w kw kwh v hz khz mhz ghz °c °f"
)
#: Units of measure and time that follow a number ("30 days", "6 bar", "5 TB", "20 %").
UNITS = frozenset((*_TIME, *(f"{unit}s" for unit in _TIME), *_MEASURES.split()))
_SEPARATORS = ",."
# The longest currency or unit word looked at ("sterling"): a longer word beside a number is
# neither, so no scan goes further, whatever the document holds.
_LONGEST_WORD = 12


def with_unit(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` widened to the currency before it or the currency or unit after it when
    ``text[start:end]`` is a bare number ("1,200", "4.5"); otherwise unchanged."""
    if not _bare_number(text[start:end]):
        return start, end
    before = _word_before(text, start)
    if before is not None and is_currency(text[before:start].strip()):
        return before, end
    after = _word_after(text, end)
    if after is not None:
        word = text[end:after].strip()
        if is_currency(word) or word.lower() in UNITS:
            return start, after
    return start, end


def _bare_number(span: str) -> bool:
    return (
        bool(span) and span[0].isdigit() and span[-1].isdigit() and all(c.isdigit() or c in _SEPARATORS for c in span)
    )


def _word_before(text: str, start: int) -> int | None:
    """Where the word right before ``start`` begins (a sign touching it, or one space between)."""
    if start > 0 and not text[start - 1].isspace():
        return start - 1 if not text[start - 1].isalnum() else None  # "$5"; "A5" is no number
    if start < 2 or text[start - 1] != " " or text[start - 2].isspace():
        return None
    begin = start - 1
    while begin > 0 and not text[begin - 1].isspace():
        begin -= 1
        if start - begin > _LONGEST_WORD + 1:
            return None
    return begin


def _word_after(text: str, end: int) -> int | None:
    """Where the word right after ``end`` ends (a sign touching it, or one space between), its
    closing punctuation left out."""
    if end < len(text) and not text[end].isspace():
        return end + 1 if text[end] in "%€$£¥" else None
    if end + 1 >= len(text) or text[end] != " " or text[end + 1].isspace():
        return None
    stop = end + 1
    while stop < len(text) and not text[stop].isspace():
        stop += 1
        if stop - end > _LONGEST_WORD + 2:  # the word and its closing punctuation
            return None
    while stop > end + 1 and text[stop - 1] in ".,;:!?)":
        stop -= 1
    return stop
