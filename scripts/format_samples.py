"""Write one small file of every format the loader reads into a folder (the install check's corpus).

    python scripts/format_samples.py DIR

Each file says one fact in its own words, so an index built from them answers a question per
format. Only the project's own dependencies are used (python-docx, python-pptx; the PDF is
written by hand), so this runs in a fresh ``pip install .`` without the dev extra. A suffix the
loader registers without a sample here is an error: the check must cover every format.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def _pdf(path: Path, text: str) -> None:
    """A one-page PDF with one line of Helvetica text and a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))


def _docx(path: Path, text: str) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Word sample", level=1)
    document.add_paragraph(text)
    document.save(str(path))


def _pptx(path: Path, text: str) -> None:
    import pptx

    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Slides sample"
    slide.placeholders[1].text_frame.text = text
    presentation.save(str(path))


def _html(path: Path, text: str) -> None:
    # Long enough that trafilatura (which needs lxml_html_clean) extracts it rather than the fallback.
    body = f"<p>{text}</p>" + "<p>The harbour opens at dawn and closes at dusk every day of the year.</p>" * 3
    page = f"<html><head><title>Web sample</title></head><body><nav>Home</nav><main>{body}</main></body></html>"
    path.write_text(page)


SAMPLES: dict[str, tuple[str, Callable[[Path, str], None]]] = {
    ".txt": ("The lighthouse keeper is named Ada.", lambda p, t: p.write_text(f"Text sample\n{t}\n")),
    ".md": ("The ferry leaves at nine.", lambda p, t: p.write_text(f"# Markdown sample\n\n{t}\n")),
    ".markdown": ("The bakery sells rye bread.", lambda p, t: p.write_text(f"# Markdown sample\n\n{t}\n")),
    ".html": ("The museum holds a blue whale skeleton.", _html),
    ".htm": ("The library closes on Sundays.", _html),
    ".pdf": ("The bridge was finished in 1932.", _pdf),
    ".docx": ("The orchard grows forty kinds of apple.", _docx),
    ".pptx": ("The choir rehearses on Tuesdays.", _pptx),
}


def write_samples(folder: Path) -> dict[str, str]:
    """One file per supported suffix in ``folder``; returns each file's name -> the fact it states."""
    from qa.ingest.loading import SUPPORTED_SUFFIXES

    missing = sorted(set(SUPPORTED_SUFFIXES) - SAMPLES.keys())
    if missing:
        raise SystemExit(f"scripts/format_samples.py has no sample for {missing}: add one to SAMPLES")
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for suffix in SUPPORTED_SUFFIXES:
        text, write = SAMPLES[suffix]
        path = folder / f"sample{suffix}"
        write(path, text)
        written[path.name] = text
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python scripts/format_samples.py DIR")
    for name in write_samples(Path(sys.argv[1])):
        print(name)
