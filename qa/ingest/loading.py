"""Load seed files (the formats in ``_READERS``) into Documents, stripping known boilerplate."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.errors import NoDocumentsError
from qa.ingest import formats
from qa.schema import Document
from qa.text import join_wrapped_lines

logger = logging.getLogger(__name__)


# Publisher notices that are not content. They are blanked with spaces (not removed) so every
# other character keeps its offset into the source file. The patterns run on the lowercased text
# (same length, so the same offsets) with no IGNORECASE and no ``^``: each then starts with a
# literal the regex engine finds by fast search, and none has two quantifiers that can share
# characters. ``(?im)^\s*...`` once spanned every following blank line: 14 s on 20,000 newlines.
# tests/hardening/test_document_regex.py times each one on a maximum-size document.
BOILERPLATE_PATTERNS = (
    re.compile(r"you have \d++(?:\.\d++)?% of this article left to read\.\s*+the rest is for subscribers only\.?"),
    re.compile(r"(?:subscribe|sign in|log in) to (?:continue|read) (?:reading|the full article)\b[^\n]*+"),
    re.compile(r"this article is (?:reserved|available) (?:for|to) subscribers\b[^\n]*+"),
)
#: Patterns above that are whole-line notices: blanked only when nothing but spaces precedes them.
_LINE_NOTICES = frozenset(BOILERPLATE_PATTERNS[1:])

_TITLE_MAX_CHARS = 120
# A line "#", a space, then some character that is neither a space nor "#"; found from the
# literal "\n#", and the lazy run stops at the first such character or the line's end.
_MD_HEADING = re.compile(r"\n#[^\S\n][^\n]*?[^\s#]")


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file that could not be loaded, and why."""

    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Documents loaded from a folder plus the files that were skipped."""

    documents: tuple[Document, ...]
    skipped: tuple[SkippedFile, ...]


def content_hash(data: bytes) -> str:
    """The sha256 hex digest of a file's bytes; the manifest records it per file."""
    return hashlib.sha256(data).hexdigest()


def document_id(source: str) -> str:
    """A stable id from the source path, so links to a document survive edits to it."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def strip_boilerplate(text: str) -> str:
    """Blank known boilerplate with spaces, keeping the text length and line breaks."""
    # U+0130 is the one code point whose lowercase is two characters; map it first so every
    # offset in ``lowered`` is the same offset in ``text``.
    lowered = text.replace("\u0130", "I").lower()
    blanks: list[tuple[int, int]] = []
    for pattern in BOILERPLATE_PATTERNS:
        for match in pattern.finditer(lowered):
            start = match.start()
            if pattern in _LINE_NOTICES:
                line_start = lowered.rfind("\n", 0, start) + 1
                if lowered[line_start:start].strip(" \t"):
                    continue
                start = line_start
            blanks.append((start, match.end()))
    if not blanks:
        return text
    parts: list[str] = []
    done = 0
    for start, end in sorted(blanks):
        start = max(start, done)
        parts.append(text[done:start])
        parts.append("\n".join(" " * len(line) for line in text[start:end].split("\n")))
        done = max(done, end)
    parts.append(text[done:])
    return "".join(parts)


def iter_seed_files(seeds_dir: Path) -> Iterator[Path]:
    """Supported files under ``seeds_dir``, recursively, in a stable order; hidden files skipped.

    Symlinks are followed only when they resolve inside ``seeds_dir`` (see ``outside_seeds``).
    """
    for path in sorted(seeds_dir.rglob("*")):
        relative = path.relative_to(seeds_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in SUPPORTED_SUFFIXES and (path.is_file() or path.is_symlink()):
            yield path


def outside_seeds(path: Path, seeds_dir: Path) -> bool:
    """True when ``path`` (through any symlink) resolves outside ``seeds_dir``: never read such a file."""
    try:
        return not path.resolve(strict=True).is_relative_to(seeds_dir.resolve(strict=True))
    except (OSError, RuntimeError):  # dangling link or a symlink loop: nothing to read either
        return True


def load_documents(
    seeds_dir: Path, *, max_bytes: int | None = None, zip_limits: formats.ZipLimits | None = None
) -> LoadResult:
    """Load every supported file under ``seeds_dir``; unreadable ones are skipped with a warning.

    Files over ``max_bytes`` (``QA_MAX_DOCUMENT_BYTES``) are skipped too, and so is a file whose
    reader raises anything at all: its reason names the exception, and the other files still load.
    Office files (zip archives) are opened only within ``zip_limits`` (``formats.check_zip``).

    Raises:
        NoDocumentsError: the folder is missing or holds no supported files.
    """
    if not seeds_dir.is_dir():
        raise NoDocumentsError(
            f"Seeds folder {str(seeds_dir)!r} does not exist. Create it and put files in it "
            f"({' '.join(SUPPORTED_SUFFIXES)}), or point QA_SEEDS_DIR at your documents."
        )
    documents: list[Document] = []
    skipped: list[SkippedFile] = []
    for path in iter_seed_files(seeds_dir):
        source = path.relative_to(seeds_dir).as_posix()
        if outside_seeds(path, seeds_dir):
            reason = "a symlink that points outside the seeds folder (or nowhere); not read"
            logger.warning("Skipping %s: %s", source, reason)
            skipped.append(SkippedFile(source, reason))
            continue
        try:
            document = load_file(path, source=source, max_bytes=max_bytes, zip_limits=zip_limits)
        except (OSError, ValueError) as exc:
            logger.warning("Skipping %s: %s", source, exc)
            skipped.append(SkippedFile(source, str(exc)))
            continue
        except Exception as exc:  # a reader's own bug or a missing part (lxml_html_clean): one file lost, not all
            reason = f"its reader failed ({type(exc).__name__}: {exc})"
            logger.warning("Skipping %s: %s", source, reason, exc_info=logger.isEnabledFor(logging.DEBUG))
            skipped.append(SkippedFile(source, reason))
            continue
        documents.append(document)
    if not documents and not skipped:
        raise NoDocumentsError(
            f"No documents in {str(seeds_dir)!r}: add files ({' '.join(SUPPORTED_SUFFIXES)}), then run `qa ingest`."
        )
    return LoadResult(tuple(documents), tuple(skipped))


def load_file(
    path: Path, *, source: str, max_bytes: int | None = None, zip_limits: formats.ZipLimits | None = None
) -> Document:
    """Load one file. Raises ValueError with a readable reason when it holds no usable text."""
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise ValueError(
            f"the file is {size:,} bytes, over the {max_bytes:,}-byte limit; split it or raise QA_MAX_DOCUMENT_BYTES"
        )
    suffix = path.suffix.lower()
    if suffix in formats.ZIP_SUFFIXES:  # before any Office library opens it
        formats.check_zip(path, zip_limits or formats.ZipLimits(), kind=_OFFICE_KINDS[suffix])
    data = path.read_bytes()
    read = _READERS.get(suffix, _read_text)  # iter_seed_files passes only registered suffixes
    extracted = read(path, data)
    text = extracted.text
    title = extracted.title or _first_line_title(text)
    # Same length after both steps, so offsets still point into the extracted (or the file's) text.
    text = join_wrapped_lines(strip_boilerplate(text))
    if not text.strip():
        raise ValueError("the file is empty or holds only boilerplate")
    return Document(
        id=document_id(source),
        source=source,
        title=title or _title_from_filename(path),
        text=text,
        content_hash=content_hash(data),
        pages=extracted.pages,
    )


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _first_line_title(text: str) -> str | None:
    # A short first line without a final full stop reads as a headline. lstrip + partition, not
    # splitlines(): a document can be millions of blank lines.
    line = text.lstrip().partition("\n")[0].partition("\r")[0].strip()
    if line and len(line) <= _TITLE_MAX_CHARS and not line.endswith((".", "?", "!")):
        return line.lstrip("# ").strip() or None
    return None


def _markdown_title(text: str) -> str | None:
    # The first level-one ATX heading ("# Title", closing #s dropped). The old pattern
    # (``^#\s+(.+?)\s*#*\s*$``) backtracked for 9 s on "# a" + 2,000 spaces + "b".
    match = _MD_HEADING.search("\n" + text)
    if not match:
        return _first_line_title(text)
    line_end = text.find("\n", match.start())
    return text[match.start() : None if line_end < 0 else line_end].strip().lstrip("#").strip().rstrip("#").rstrip()


def _read_text(path: Path, data: bytes) -> formats.Extracted:
    return formats.Extracted(_decode(data), None)


def _read_markdown(path: Path, data: bytes) -> formats.Extracted:
    raw = _decode(data)
    return formats.Extracted(raw, _markdown_title(raw))


def _read_html(path: Path, data: bytes) -> formats.Extracted:
    return formats.read_html(_decode(data))


# A suffix -> its reader. A new file format is a reader here (plus its extraction in formats.py);
# uploads, the folder watcher and `qa ingest` all accept exactly these suffixes.
_READERS: dict[str, Callable[[Path, bytes], formats.Extracted]] = {
    ".txt": _read_text,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": lambda path, data: formats.read_pdf(path),
    ".docx": lambda path, data: formats.read_docx(path),
    ".pptx": lambda path, data: formats.read_pptx(path),
}
SUPPORTED_SUFFIXES = tuple(_READERS)
_OFFICE_KINDS = {".docx": "Word file", ".pptx": "PowerPoint file"}


def _title_from_filename(path: Path) -> str:
    stem = re.sub(r"^\d+[_-]", "", path.stem)
    words = re.split(r"[_\-\s]+", stem)
    return " ".join(word[:1].upper() + word[1:] for word in words if word) or path.name
