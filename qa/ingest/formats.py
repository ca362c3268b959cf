"""Text out of rich formats: HTML (main text), PDF and PPTX (with page starts), DOCX.

Each reader returns ``Extracted``: the text a Document holds (offsets into it are citation
offsets), a title when the file names one, and where each page starts. Blocks (paragraphs,
headings, list items, table rows, slides' text boxes) are separated by a blank line, so the
chunker sees the structure; inline markup never splits a sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Block-level HTML tags: a line break before and after each. Everything else is inline text.
_HTML_BLOCKS = [
    *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p", "pre", "section", "table"),
    *("td", "th", "tr", "ul"),
]
_HTML_NOISE = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form"]


#: Why a PDF whose pages hold no text at all is skipped (pages of images: a scan or a photo).
NO_TEXT_LAYER = "no text layer (a scanned image?); OCR is not supported"


@dataclass(frozen=True, slots=True)
class Extracted:
    """Text pulled out of one file."""

    text: str
    title: str | None
    pages: tuple[int, ...] = ()


def join_blocks(blocks: Iterable[str]) -> str:
    """Blocks with their whitespace collapsed, one per paragraph (blank line between)."""
    cleaned = (" ".join(block.split()) for block in blocks)
    return "\n\n".join(block for block in cleaned if block)


def join_pages(pages: Sequence[str]) -> Extracted:
    """Page texts joined by blank lines, with the offset where each page starts (empty ones too)."""
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        page = page.strip()
        if page:
            parts.append(page)
            offset += len(page) + 2
    return Extracted("\n\n".join(parts), None, tuple(starts))


def read_html(raw: str) -> Extracted:
    """The main text of a web page (trafilatura), falling back to every block outside navigation."""
    import trafilatura

    # favor_precision: the default mode keeps menus of small pages and splits "<a>" out of
    # its sentence onto a line of its own.
    found: Any = trafilatura.bare_extraction(
        raw, favor_precision=True, include_comments=False, include_tables=True, with_metadata=True
    )
    text = join_blocks(found.text.splitlines()) if found is not None and found.text else ""
    title: str | None = (found.title or None) if found is not None else None
    if not text or not title:
        fallback_text, fallback_title = _html_blocks(raw)
        text, title = text or fallback_text, title or fallback_title
    return Extracted(text, title)


def _html_blocks(raw: str) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "lxml")
    title_tag, heading = soup.find("title"), soup.find("h1")
    title = (title_tag.get_text(" ", strip=True) if title_tag else "") or (
        heading.get_text(" ", strip=True) if heading else ""
    )
    for tag in soup(_HTML_NOISE):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    for tag in root.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return join_blocks(root.get_text().split("\n")), title or None


def read_pdf(path: Path) -> Extracted:
    """Each page's text; ``pages`` says where each starts."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"unreadable PDF ({exc})") from None
    if pages and not any(page.strip() for page in pages):
        raise ValueError(NO_TEXT_LAYER)
    joined = join_pages(pages)
    return Extracted(joined.text, str(title).strip() or None if title else None, joined.pages)


def read_docx(path: Path) -> Extracted:
    """Paragraphs and table rows in document order; the title from the file's properties or a heading."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    document = _open_package(docx.Document, path, PackageNotFoundError, "Word file")
    blocks: list[str] = []
    title = document.core_properties.title or None
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(" | ".join(cell.text for cell in row.cells) for row in item.rows)
            continue
        style = item.style.name if item.style is not None else ""
        if title is None and style in ("Title", "Heading 1") and item.text.strip():
            title = item.text.strip()
        blocks.append(item.text)
    return Extracted(join_blocks(blocks), title)


def read_pptx(path: Path) -> Extracted:
    """Each slide's text boxes, a slide per page; the title from the properties or the first slide."""
    import pptx
    from pptx.exc import PackageNotFoundError

    presentation = _open_package(pptx.Presentation, path, PackageNotFoundError, "PowerPoint file")
    slides: list[str] = []
    title = presentation.core_properties.title or None
    for slide in presentation.slides:
        shapes: list[Any] = [shape for shape in slide.shapes if shape.has_text_frame]
        if title is None and slide.shapes.title is not None and slide.shapes.title.text_frame.text.strip():
            title = slide.shapes.title.text_frame.text.strip()
        slides.append(join_blocks(p.text for shape in shapes for p in shape.text_frame.paragraphs))
    joined = join_pages(slides)
    return Extracted(joined.text, title, joined.pages)


# A real .docx holds a few dozen members and a deck of a hundred slides a few hundred; its XML
# unzips to ten times its size at most (images are stored as they are), and QA_MAX_DOCUMENT_BYTES
# keeps the file itself to 10 MiB. Far past both: a zip bomb.
MAX_ARCHIVE_MEMBERS = 5_000
MAX_ARCHIVE_UNZIPPED_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """What an Office file (a zip archive) may hold before it is opened (``QA_MAX_ARCHIVE_*``)."""

    max_members: int = MAX_ARCHIVE_MEMBERS
    max_unzipped_bytes: int = MAX_ARCHIVE_UNZIPPED_BYTES


#: Office formats that are zip archives: ``check_zip`` runs before their reader.
ZIP_SUFFIXES = frozenset({".docx", ".pptx"})
# The end of a zip: its record (22 bytes + a comment of up to 64 KiB) gives the member count and
# the central directory's size without reading the directory (which a bomb can make huge).
_EOCD, _ZIP64_LOCATOR, _ZIP64_EOCD = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
_MAX_CENTRAL_DIRECTORY_PER_MEMBER = 1024  # bytes: a 46-byte entry plus a name of a few dozen


def check_zip(path: Path, limits: ZipLimits, *, kind: str) -> None:
    """Refuse a zip with too many members or too many bytes once unzipped, reading only its directory.

    Python's zipfile never unzips more than a member's declared size (more fails its CRC check),
    so declared sizes within the limit bound the memory the reader can use.

    Raises:
        ValueError: over a limit (the message names it and the setting), or not a zip at all.
    """
    import struct
    import zipfile

    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        tail_start = max(0, size - (22 + 65_535))
        handle.seek(tail_start)
        tail = handle.read()
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) < at + 22:
            raise ValueError(f"unreadable {kind} (not a zip archive)")
        members, directory_bytes = struct.unpack_from("<HI", tail, at + 10)
        if members == 0xFFFF or directory_bytes == 0xFFFFFFFF:  # ZIP64: the real counts are further back
            locator = tail.rfind(_ZIP64_LOCATOR, 0, at)
            if locator < 0:
                raise ValueError(f"unreadable {kind} (a ZIP64 archive without its locator)")
            (record,) = struct.unpack_from("<Q", tail, locator + 8)
            handle.seek(record)
            zip64 = handle.read(56)
            if len(zip64) < 56 or not zip64.startswith(_ZIP64_EOCD):
                raise ValueError(f"unreadable {kind} (a damaged ZIP64 record)")
            members, directory_bytes = struct.unpack_from("<QQ", zip64, 32)
    hint = "(a zip bomb?); skipped. If it is a genuine file, raise"
    if members > limits.max_members:
        raise ValueError(
            f"the {kind} holds {members:,} files, over the {limits.max_members:,} limit {hint} QA_MAX_ARCHIVE_MEMBERS"
        )
    if directory_bytes > limits.max_members * _MAX_CENTRAL_DIRECTORY_PER_MEMBER:
        raise ValueError(f"the {kind}'s file list is {directory_bytes:,} bytes {hint} QA_MAX_ARCHIVE_MEMBERS")
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValueError(f"unreadable {kind} ({exc})") from None
    if unzipped > limits.max_unzipped_bytes:
        raise ValueError(
            f"the {kind} unzips to {unzipped:,} bytes, over the {limits.max_unzipped_bytes:,}-byte limit "
            f"{hint} QA_MAX_ARCHIVE_UNZIPPED_BYTES"
        )


def _open_package(open_file: Callable[[str], Any], path: Path, not_a_package: type[Exception], kind: str) -> Any:
    """Open an Office (zip) file; a broken one is a ValueError the loader reports as a skipped file."""
    try:
        return open_file(str(path))
    except (not_a_package, KeyError, ValueError) as exc:
        raise ValueError(f"unreadable {kind} ({exc})") from None
