"""Text helpers shared by chunking, answering and citation checking: one home for each.

    sentence_spans   sentence offsets in a text (abbreviations, initials, wrapped lines, lists)
    join_wrapped_lines  a wrapped line's newline read as a space (same length, same offsets)
    block_spans      the runs of lines that read as one piece of prose; clip_to_block keeps a span in one
    content_words    the words that carry meaning (STOPWORDS dropped, crudely singularised)
    WORD             the one ``\\w+`` word pattern
    tidy_span        keep a short answer span in one block and trim it; snap_to_words widens it to whole words
    word_pieces      a text cut into pieces of a few words that join back to it exactly

Every pattern here runs on whole documents or on questions, so none may backtrack: possessive
quantifiers and lookbehinds keep them linear (tests/hardening/test_regex_dos.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: A word: letters, digits and underscores (Unicode-aware).
WORD = re.compile(r"\w+")

STOPWORDS = frozenset(
    """
    a an the of to in on at for from by with and or but is are was were be been being do does did
    has have had it its this that these those what which who whom whose when where why how many
    much there their they them he she his her we our you your i me my as into about than then so
    not no can could would should will shall may might must ever any some all one
    """.split()  # noqa: SIM905 (a word a line took 82 lines)
)


def content_words(text: str) -> set[str]:
    """Lower-cased, crudely singularised words that are not stopwords."""
    return {normalise_word(w) for w in WORD.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS}


def normalise_word(word: str) -> str:
    """A crude singular: "drones" -> "drone" ("press" and short words stay)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


# Sentences -----------------------------------------------------------------------------------

# Words that end with a full stop without ending a sentence.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st vs etc eg ie al inc ltd co corp gen col lt sgt rep sen gov no nos
    fig figs vol pp jan feb mar apr jun jul aug sep sept oct nov dec mt ft approx dept est u.s u.k
    e.g i.e a.m p.m
    """.split()  # noqa: SIM905 (a word a line took 53 lines)
)
# A candidate boundary: a whole run of terminal punctuation (never starting inside one: the
# lookbehind), optional closing quotes/brackets, then whitespace. Possessive runs and the
# lookbehind keep it linear; ``[.!?…]+...(?=\s)`` took 8 s on 20,000 dots by retrying every
# suffix of the run. Starting with the character class lets the engine skip ordinary text fast.
_BOUNDARY = re.compile(r"[.!?…](?<![.!?…][.!?…])[.!?…]*+[\"'”’)\]]*+(?=\s)")
_LINE = re.compile(r"[^\n]+")
_NON_SPACE = re.compile(r"\S")
_WORD_BEFORE_DOT = re.compile(r"[\w.]+$")
# A line at least this fraction of its paragraph's widest line was wrapped (a single newline
# inside a sentence); a shorter one without a final stop is a headline or a label.
_WRAPPED_WIDTH = 0.6
_SENTENCE_ENDS = (".", "!", "?", ":")
#: What closes a sentence or clause: a line ending in one is no heading.
CLAUSE_ENDS = (".", "!", "?", ":", ";", ",")
_LIST_MARKERS = ("- ", "* ", "+ ", "• ", "– ", "|")
_FENCES = ("```", "~~~")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in ``text``, whitespace trimmed.

    Line-wrapped paragraphs are joined first: a single newline inside a paragraph reads as a
    space, while blank lines, headings, list items, table rows, code and short headline-like
    lines end a sentence. Full stops after common abbreviations, initials and inside numbers
    do not. Offsets point into ``text`` (a sentence may span a line break). Linear in
    ``len(text)``: it runs on whole documents and on questions.
    """
    spans: list[tuple[int, int]] = []
    for seg_start, seg_end in _prose_segments(text):
        start = seg_start
        for boundary in _BOUNDARY.finditer(text, seg_start, seg_end):
            end = boundary.end()
            if _is_abbreviation(text, boundary.start()) or _is_item_number(text, start, boundary.start()):
                continue
            following = _NON_SPACE.search(text, end, seg_end)
            if following and following.group(0).islower():
                continue
            spans.append((start, end))
            start = end
        spans.append((start, seg_end))
    return [trimmed for s, e in spans if (trimmed := _trim(text, s, e))[1] > trimmed[0]]


def _prose_segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of lines that reads as one piece of prose (wrapped lines joined)."""
    blocks: list[list[tuple[int, int, str]]] = []
    previous_end = -2
    for match in _LINE.finditer(text):
        line = match.group(0).strip()
        if not line:
            previous_end = -2
            continue
        if match.start() != previous_end + 1:
            blocks.append([])
        blocks[-1].append((match.start(), match.end(), line))
        previous_end = match.end()
    segments: list[tuple[int, int]] = []
    in_fence = False
    for block in blocks:
        widest = max(len(line) for _, _, line in block)
        seg_start = block[0][0]
        for i, (_, end, line) in enumerate(block):
            fence = line.startswith(_FENCES)
            hard = in_fence or fence or i + 1 == len(block)
            in_fence = in_fence != fence
            if not hard:
                following = block[i + 1][2]
                hard = (
                    is_heading(line)
                    or is_table_row(line)
                    or is_table_row(following)
                    or _starts_item(following)
                    or following.startswith(_FENCES)
                    # A line that starts in lower case continues a sentence: never a headline.
                    or (len(line) < _WRAPPED_WIDTH * widest and not line[0].islower() and not following[0].islower())
                    # A finished sentence, then a headline: PDF pages give "... June 2027.\nPurpose\n".
                    or (line.endswith(_SENTENCE_ENDS) and _is_headline(block, i + 1, widest))
                )
            if hard:
                segments.append((seg_start, end))
                if i + 1 < len(block):
                    seg_start = block[i + 1][0]
    return segments


def _is_headline(block: Sequence[tuple[int, int, str]], i: int, widest: int) -> bool:
    """Whether line ``i`` of a block reads as a headline: short, no closing punctuation, not a
    continuation (it and the line after it start in upper case)."""
    line = block[i][2]
    after = block[i + 1][2] if i + 1 < len(block) else ""
    return (
        len(line) < _WRAPPED_WIDTH * widest
        and not line[0].islower()
        and not line.endswith(CLAUSE_ENDS)
        and not after[:1].islower()
    )


def block_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of lines that reads as one piece of prose.

    Headings, list items, table rows, code and blank lines end a block; a single newline inside
    a wrapped paragraph does not. No sentence, answer span or quote crosses from one block into
    the next. Linear in ``len(text)``.
    """
    return _prose_segments(text)


def join_wrapped_lines(text: str) -> str:
    """``text`` with each newline inside a block (a wrapped line) read as a space.

    The result has the same length as ``text``, so every offset into one is the same offset into
    the other; headings, list items, table rows and blank lines stay on lines of their own. PDF
    extraction hard-wraps every line ("Clearstream\nTechnologies GmbH"); quotes taken from the
    joined text read as one line.
    """
    parts: list[str] = []
    done = 0
    for start, end in _prose_segments(text):
        if text.find("\n", start, end) < 0:
            continue
        parts.append(text[done:start])
        # A "\r" before the newline goes too; both become spaces, so the length stays.
        parts.append(text[start:end].replace("\r\n", "  ").replace("\n", " "))
        done = end
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def clip_to_block(text: str, start: int, end: int) -> tuple[int, int]:
    """The part of ``text[start:end]`` inside one block (``block_spans``) and one table cell.

    A reader's span may run from a list item into the next heading ("E1. 3.2 Control panel") or
    across a row's cells ("Premium | 5 TB"); the answer is the piece holding most of it.
    """
    if text.find("\n", start, end) >= 0:
        start, end = _clip_to_line_block(text, start, end)
    if text.find("|", start, end) >= 0:
        start, end = _clip_to_cell(text, start, end)
    return start, end


def _clip_to_cell(text: str, start: int, end: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    line = text[line_start:line_end]
    if not is_table_row(line.lstrip()):
        return start, end  # a "|" in prose, not a table row
    best = (start, start)
    cell_start = line_start
    while cell_start <= line_end:
        bar = text.find("|", cell_start, line_end)
        cell_end = line_end if bar < 0 else bar
        piece = (max(start, cell_start), min(end, cell_end))
        if piece[1] - piece[0] > best[1] - best[0]:
            best = piece
        cell_start = cell_end + 1
    return _trim(text, *best)


def _clip_to_line_block(text: str, start: int, end: int) -> tuple[int, int]:
    best = (start, start)
    for block_start, block_end in _prose_segments(text):
        if block_end <= start:
            continue
        if block_start >= end:
            break
        piece = (max(start, block_start), min(end, block_end))
        if piece[1] - piece[0] > best[1] - best[0]:
            best = piece
    return _trim(text, *best)


def is_heading(line: str) -> bool:
    """A Markdown ATX heading line ("## Fees")."""
    return line.startswith("#") and line.lstrip("#")[:1] in ("", " ", "\t")


def is_table_row(line: str) -> bool:
    """A table row: Markdown rows start with "|"; Word rows and plain-text tables are cells joined
    by " | " ("Basic | EUR 9 | 10 GB")."""
    return line.startswith("|") or " | " in line


def section_number(line: str) -> int:
    """How deep a numbered section heading is: "3.2 Control panel" -> 2, "3. Fees" -> 1; 0 when not one."""
    label, _, rest = line.partition(" ")
    parts = label.rstrip(".").split(".")
    if not rest[:1].isupper() or len(parts) > 4 or not all(p.isdigit() and len(p) <= 3 for p in parts):
        return 0
    return len(parts)


def is_item_label(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is the number that opens its line's section or list item ("6.1" of
    "6.1 Every document ...", "4" of "4. Stop work"): structure, never an answer."""
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip():
        return False
    line_end = text.find("\n", end)
    line = text[start : len(text) if line_end < 0 else line_end]
    label = line.partition(" ")[0]
    # "6.1" or "4." numbers a section; a bare "10" ("10 Downing Street") is content.
    return "." in label and section_number(line) > 0 and text[start:end].rstrip(".") == label.rstrip(".")


def in_heading_line(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` lies on a heading's line: a Markdown heading ("## 6. Data
    classification") or a numbered one without a closing stop ("3.2 Control panel"). A heading
    names a section; it states nothing that answers a question."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : len(text) if line_end < 0 else line_end].strip()
    if is_heading(line):
        return True
    # "3.2 Control panel" or "6. Data classification"; "10 GB storage" is a slide's bullet.
    numbered = "." in line.partition(" ")[0] and section_number(line) > 0
    return numbered and not line.endswith(CLAUSE_ENDS)


def _starts_item(line: str) -> bool:
    if is_heading(line) or line.startswith(_LIST_MARKERS):
        return True
    digits = len(line) - len(line.lstrip("0123456789"))
    if 0 < digits <= 3 and line[digits : digits + 2] in (". ", ") "):
        return True
    # "3.2 Control panel" opens a numbered section; "E4: Low pressure" an error-code item.
    return ("." in line.partition(" ")[0] and section_number(line) > 0) or _is_code_label(line.partition(" ")[0])


def _is_code_label(word: str) -> bool:
    # An item's code: one to three capitals then one to four digits, ending in "." or ":" ("E4:", "F12.").
    code = word[:-1]
    letters = len(code) - len(code.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    return word[-1:] in ".:" and 1 <= letters <= 3 and code[letters:].isdigit() and 1 <= len(code) - letters <= 4


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    match = _WORD_BEFORE_DOT.search(text, max(0, dot - 12), dot)
    if not match:
        return False
    word = match.group(0).lower().strip(".")
    # Single letters are initials ("J. Smith"); listed words are abbreviations.
    return (len(word) == 1 and word.isalpha()) or word in _ABBREVIATIONS


def _is_item_number(text: str, start: int, dot: int) -> bool:
    # "1. Install it." opens a numbered list item and "E4. Low pressure" an error code's item;
    # the number or code is not a sentence.
    if dot - start > 8:  # checked first: copying a long sentence's start at each dot is quadratic
        return False
    label = text[start:dot].strip()
    return label.isdigit() or _is_code_label(label + ".")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    # str.lstrip/rstrip rather than a per-character loop: a span can be megabytes of spaces.
    segment = text[start:end]
    left = segment.lstrip()
    return start + len(segment) - len(left), end - (len(left) - len(left.rstrip()))


# Answer spans ---------------------------------------------------------------------------------

# A name followed by one of these reads as the name alone: "Baykar company" -> "Baykar". SQuAD-style
# training data labels both ways, and the short form is the one a person asking "who" wants.
_TRAILING_DESCRIPTORS = frozenset({"company", "companies", "firm", "corporation", "group", "manufacturer", "maker"})


def tidy_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Keep a span inside one block (``clip_to_block``); trim punctuation and a trailing descriptor; close a bracket."""
    start, end = clip_to_block(text, start, end)
    while start < end and text[start] in " ,;:":
        start += 1
    while end > start and text[end - 1] in " ,;:":
        end -= 1
    span = text[start:end]
    if span.count("(") > span.count(")") and text[end : end + 1] == ")":
        end += 1  # "Turkish Aerospace Industries (TAI" -> "... (TAI)"
    words = text[start:end].rsplit(" ", 1)
    if len(words) == 2 and words[1].lower() in _TRAILING_DESCRIPTORS and words[0][-1:].isalnum():
        last_name = words[0].rsplit(" ", 1)[-1]
        if last_name[:1].isupper():
            end = start + len(words[0])
    return start, end


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a sub-word span to whole words ("ka-3" -> "Anka-3", "corvette" -> "corvettes")."""

    def joins(i: int) -> bool:
        # Letters and digits join; so does a hyphen between two of them ("Ivchenko-Progress").
        if not 0 <= i < len(text):
            return False
        if text[i].isalnum():
            return True
        return text[i] in "-'’" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()

    while start > 0 and joins(start - 1):
        start -= 1
    while end < len(text) and joins(end):
        end += 1
    return start, end


# Streaming ------------------------------------------------------------------------------------

# Words per piece when a finished answer is replayed as a stream.
_WORDS_PER_PIECE = 3
_PIECE = re.compile(r"\S+\s*")


def word_pieces(text: str, *, words: int = _WORDS_PER_PIECE) -> list[str]:
    """Split ``text`` into pieces of a few words that join back to exactly ``text``."""
    tokens = _PIECE.findall(text)
    leading = text[: len(text) - len(text.lstrip())]
    pieces = ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]
    if leading:
        pieces = [leading + pieces[0], *pieces[1:]] if pieces else [leading]
    return pieces
