#!/usr/bin/env python
"""Build the workplace test set's binary documents and refresh its evidence offsets.

tests/data/workplace/documents/ holds eight documents written for this project, one or more per
format the loader reads (the questions and the README sit one folder up, outside the corpus). The
.txt, .md and .html ones are written by hand and committed as they are; the PDF, Word and
PowerPoint ones are generated here from the text below (fpdf2, python-docx, python-pptx, with fixed
dates, so a rebuild is byte-identical), and committed too.

``questions.jsonl`` names each gold passage by ``source`` and ``quote``; this script finds every
quote in the text the project's own loader (``qa.ingest.loading.load_file``) extracts and writes
its ``start``/``end`` (and ``page`` for PDF and PowerPoint), so the offsets follow any change to
text extraction: rerun it after one.

    .venv/bin/python scripts/make_workplace_set.py            # documents + offsets
    .venv/bin/python scripts/make_workplace_set.py --offsets  # offsets only
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKPLACE = ROOT / "tests" / "data" / "workplace"
QUESTIONS = "questions.jsonl"
DOCUMENTS = "documents"  # the corpus: ``--seeds tests/data/workplace/documents``
#: Fixed file dates, so a rebuild writes the same bytes where the library allows it.
CREATED = "2026-12-07T12:00:00"

# --------------------------------------------------------------------------------------------
# The product manual (PDF, four pages). Each page: a list of (kind, text) blocks.
# kind: "title", "h" (heading), "p" (paragraph), "row" (a table row: cells split on "|").
# A "\n" inside a paragraph forces a line break where it stands (the manufacturer's name).
# --------------------------------------------------------------------------------------------
MANUAL: list[list[tuple[str, str]]] = [
    [
        ("title", "AquaPure 500 Under-Sink Water Purifier - User Manual"),
        ("p", "Document AP500-UM-EN, revision 3, March 2026. Keep this manual near the unit."),
        ("h", "1. About this manual"),
        (
            "p",
            "This manual describes the installation, daily use and maintenance of the AquaPure 500, a\n"
            "two-stage purifier that combines a carbon block filter with ultraviolet disinfection. The\n"
            "AquaPure 500 is designed and manufactured by Clearstream\n"
            "Technologies GmbH, Hafenstrasse 12, 28217 Bremen, Germany. Your dealer can order\n"
            "spare parts, but only Clearstream service partners may open the lamp chamber.",
        ),
        ("h", "1.1 Safety notes"),
        (
            "p",
            "Connect the unit to the cold water line only. Never run the purifier with the front cover\n"
            "removed, because ultraviolet light damages eyes and skin. Unplug the power adapter before\n"
            "you change a filter or a lamp. Children must not play with the unit.",
        ),
        ("h", "2. Technical data"),
        ("row", "Rated flow | 2.0 litres per minute"),
        ("row", "Operating pressure | 1.5 to 6 bar"),
        ("row", "Water temperature | 4 to 35 degrees Celsius"),
        ("row", "Power supply | 24 V DC adapter (100-240 V AC input)"),
        ("row", "Power consumption | 18 W in operation, 0.5 W on standby"),
        ("row", "Dimensions (W x D x H) | 160 x 380 x 420 mm"),
        ("row", "Weight (empty) | 6.4 kg"),
    ],
    [
        ("h", "3. Installation and operation"),
        ("h", "3.1 Installation"),
        (
            "p",
            "Fit the supplied T-valve to the cold water pipe under the sink and connect the inlet hose.\n"
            "Leave at least 10 cm of free space above the unit so that the cartridge can be removed.\n"
            "Before first use, let the purifier flush for 5 minutes and discard that water. The unit\n"
            "must stand upright; it may be mounted on the cabinet wall with the WB-1 wall bracket.",
        ),
        ("h", "3.2 Control panel"),
        (
            "p",
            "The control panel has a two-digit display, a status light and two buttons, FLUSH and RESET.\n"
            "A blue status light means that the unit works normally. An amber light means that the\n"
            "filter cartridge is due for replacement within 14 days. A red light means a fault; the\n"
            "display then shows an error code (see section 5).",
        ),
        (
            "p",
            "Press FLUSH once to rinse the filter for 60 seconds. Hold RESET for 5 seconds after you\n"
            "have fitted a new cartridge: this sets the filter counter back to 3,000 litres.",
        ),
        ("h", "3.3 Holidays and longer absences"),
        (
            "p",
            "If the purifier will not be used for more than 7 days, close the inlet valve and unplug the\n"
            "unit. When you return, run a flush of 5 minutes before you drink the water.",
        ),
    ],
    [
        ("h", "4. Maintenance"),
        (
            "p",
            "Two parts wear out and must be replaced on schedule. Replace the CF-300 filter cartridge\n"
            "every 6 months or after 3,000 litres, whichever comes first. The UV-12 lamp must be\n"
            "replaced every 12 months, even if it still lights up.",
        ),
        (
            "p",
            "Once a year, sanitise the filter housing with the SK-2 sanitising kit. Wipe the outside\n"
            "with a damp cloth only; solvents and abrasive cleaners damage the housing.",
        ),
        ("h", "4.1 Replacing the filter cartridge"),
        (
            "p",
            "Close the inlet valve and unplug the unit. Turn the old cartridge a quarter turn to the left\n"
            "and pull it down. Push the new CF-300 cartridge in until it clicks, open the valve, plug the\n"
            "unit in and hold RESET for 5 seconds. Flush for 5 minutes before drinking the water.",
        ),
        ("h", "4.2 Spare parts"),
        ("row", "Part | Description | Part number"),
        ("row", "CF-300 | Carbon block filter cartridge | 300-0142"),
        ("row", "UV-12 | UV-C lamp, 12 W | 120-0087"),
        ("row", "SK-2 | Sanitising kit | 200-0031"),
        ("row", "WB-1 | Wall bracket | 410-0009"),
        ("row", "PA-24 | Power adapter, 24 V | 510-0240"),
    ],
    [
        ("h", "5. Error codes"),
        (
            "p",
            "When the status light turns red, the display shows one of the codes below. Codes E1 to E4\n"
            "and E7 stop the water flow; the other codes are warnings and the unit keeps running.",
        ),
        ("p", "Error code E1 indicates that no water flow is detected. Open the inlet valve fully."),
        ("p", "Error code E2 indicates a leak in the base tray. Close the inlet valve and unplug the unit."),
        ("p", "Error code E3 indicates that the filter cartridge is missing or not seated correctly."),
        ("p", "Error code E4 indicates that the incoming water pressure is too low (below 1.5 bar)."),
        ("p", "Error code E7 indicates a failed UV-C lamp. Replace the UV-12 lamp."),
        ("p", "Error code E5 indicates that the water temperature is above 35 degrees Celsius."),
        ("p", "Error code E6 indicates that the filter counter has run out; fit a new CF-300 cartridge."),
        ("p", "Error code E8 indicates a communication fault between the control board and the display."),
        ("p", "Error code E9 indicates an internal memory fault. Contact a Clearstream service partner."),
        (
            "p",
            "If a code returns after you have dealt with its cause, unplug the unit for 30 seconds.\n"
            "If it still returns, call the service hotline.",
        ),
        ("h", "6. Warranty and service"),
        (
            "p",
            "The warranty period is 24 months from the date of purchase. It is extended to 36 months\n"
            "when you register the unit online within 30 days of purchase. Filter cartridges and lamps\n"
            "are consumables and are not covered by the warranty.",
        ),
        (
            "p",
            "The service hotline, +49 421 555 0190, is open Monday to Friday from 8:00 to 17:00 CET.",
        ),
    ],
]

# --------------------------------------------------------------------------------------------
# The fire evacuation procedure (PDF, two pages): numbered steps.
# --------------------------------------------------------------------------------------------
PROCEDURE: list[list[tuple[str, str]]] = [
    [
        ("title", "Safety Procedure SP-07: Fire Evacuation, Lindenhof Office"),
        ("p", "Northgate Software GmbH. Issued 2 June 2026 by the Facilities team. Review due June 2027."),
        ("h", "Purpose"),
        (
            "p",
            "This procedure tells everyone in the Lindenhof office, employees and visitors alike, how to\n"
            "leave the building safely when the fire alarm sounds or when they discover a fire.",
        ),
        ("h", "If you discover a fire"),
        ("p", "1. Press the nearest red fire alarm call point to raise the alarm."),
        ("p", "2. Call the fire brigade on 112 and give the address: Lindenhofstrasse 40, 3rd floor."),
        (
            "p",
            "3. Only if the fire is small and you have been trained, use a fire extinguisher. Never put\n"
            "yourself at risk.",
        ),
        ("h", "When the alarm sounds"),
        ("p", "4. Stop work at once and leave the room. Do not collect personal belongings."),
        ("p", "5. Close the doors behind you to slow the spread of smoke."),
        ("p", "6. Use the nearest staircase. Never use the lifts during a fire alarm."),
        (
            "p",
            "7. Go to the assembly point in the car park of the Lindenhof bakery across the street, and\n"
            "report to your floor's fire warden.",
        ),
        ("p", "8. Do not re-enter the building until the fire brigade or the fire warden says it is safe."),
    ],
    [
        ("h", "Roles"),
        (
            "p",
            "Each floor has a fire warden, who checks that the floor is empty and reports to the fire\n"
            "brigade at the assembly point. The fire warden for the 3rd floor is Jan Kowalski; his deputy is\n"
            "Mia Schulz. The first aider for the 3rd floor is Ayesha Khan, who looks after injured people\n"
            "at the assembly point and brings the first aid kit.",
        ),
        ("h", "People who need help"),
        (
            "p",
            "Colleagues with reduced mobility agree a personal evacuation plan with Facilities. An\n"
            "evacuation chair is kept in the stairwell next to the kitchen on each floor.",
        ),
        ("h", "Alarm tests and drills"),
        (
            "p",
            "The fire alarm is tested every Wednesday at 11:00; a test lasts less than 30 seconds and\n"
            "needs no action. A full evacuation drill is held twice a year, in spring and autumn.",
        ),
    ],
]

# --------------------------------------------------------------------------------------------
# The employee handbook (Word). ("h1"/"h2" headings, "p" paragraphs, "li" list items,
# "table" with rows split on "|".)
# --------------------------------------------------------------------------------------------
HANDBOOK: list[tuple[str, Any]] = [
    ("title", "Northgate Software Employee Handbook"),
    ("p", "Edition 2026. Owner: People & Culture team. This handbook applies to all employees in Germany."),
    ("h1", "1. Working hours"),
    (
        "p",
        "The standard working week is 40 hours for full-time employees. Core hours are 10:00 to 15:00; "
        "outside them you choose when you start and finish, in agreement with your team.",
    ),
    (
        "p",
        "You may work from home up to 3 days a week. Working from another country needs written approval "
        "from People & Culture and is limited to 20 working days per calendar year.",
    ),
    ("h1", "2. Annual leave"),
    (
        "p",
        "Full-time employees are entitled to 28 days of paid annual leave per calendar year, plus public "
        "holidays. The entitlement grows with length of service:",
    ),
    (
        "table",
        [
            "Years of service | Annual leave",
            "0 to 4 years | 28 days",
            "5 to 9 years | 29 days",
            "10 years or more | 30 days",
        ],
    ),
    ("p", "Request leave in the HR portal at least two weeks in advance for absences longer than three days."),
    (
        "p",
        "You may carry over up to 5 unused days of annual leave into the next calendar year. "
        "Carried-over days expire if they are not taken by 31 March.",
    ),
    ("h1", "3. Sickness"),
    (
        "p",
        "If you are ill, tell your manager before 9:30 on the first day of absence. From the fourth "
        "calendar day of illness you need a doctor's certificate.",
    ),
    ("h1", "4. Parental leave"),
    (
        "p",
        "The primary carer receives 16 weeks of fully paid parental leave. The second parent receives "
        "4 weeks of fully paid leave, to be taken within the first year after the birth or adoption.",
    ),
    ("h1", "5. Travel and expenses"),
    (
        "p",
        "Submit expense claims in Spendwise within 30 days of the expense, with a photo of each receipt. "
        "On business trips the company pays up to EUR 35 per day for meals and up to EUR 150 per night for "
        "hotels. Travel by train in second class; flights are booked in economy class.",
    ),
    ("h1", "6. Equipment and security"),
    (
        "p",
        "Each employee receives a laptop and a headset. Keep your laptop with you when you travel and never "
        "leave it in a parked car.",
    ),
    (
        "p",
        "If your laptop is stolen, report it to the IT service desk within 24 hours and file a police report.",
    ),
    ("p", "If you lose your access badge, tell reception the same day. A replacement badge costs EUR 15."),
    ("h1", "7. Learning and development"),
    (
        "p",
        "Every employee has a personal training budget of EUR 1,200 per calendar year for courses, "
        "conferences and books. Unused budget does not carry over.",
    ),
    ("h1", "8. Probation and notice"),
    (
        "p",
        "New employees serve a probation period of 6 months. During probation either side may end the "
        "contract with two weeks' notice; after probation the notice period is 3 months to the end of a month.",
    ),
    ("h1", "9. Speaking up"),
    (
        "p",
        "Concerns about misconduct can be raised with the ethics officer, Dr. Helena Voss, in confidence. "
        "Questions about personal data go to the data protection officer, Marco Bianchi.",
    ),
]

MINUTES: list[tuple[str, Any]] = [
    ("title", "Product Steering Group - Minutes"),
    ("p", "Meeting of 12 November 2026, 14:00 to 15:30, meeting room Elbe, Hamburg office."),
    (
        "p",
        "Present: Sofia Lindqvist (Head of Product, chair), Daniel Okafor (Head of Engineering), "
        "Priya Natarajan (Head of Customer Support), Tomasz Wrona (Finance Manager). "
        "Minutes: Lea Hoffmann. Apologies: Markus Feld (Head of Sales).",
    ),
    ("h1", "1. Churn review"),
    (
        "p",
        "The group discussed the churn study published by Northwind Analytics in October. Monthly churn "
        "on the Basic plan rose to 3.1 percent, while Plus and Premium stayed below 1 percent. Most "
        "leavers named missing bank connections as the reason.",
    ),
    ("p", "Priya Natarajan will summarise the study's findings for the support team."),
    ("h1", "2. Release 2.4.1"),
    (
        "p",
        "Daniel Okafor reported that the CSV export bug reported by Acme Logistics is reproduced and "
        "will be fixed in release 2.4.1, planned for 8 December 2026.",
    ),
    ("h1", "3. Pricing for 2027"),
    (
        "p",
        "Finance proposed to keep the Basic price unchanged and to raise Plus by EUR 2. The group did "
        "not decide; the proposal returns at the next meeting.",
    ),
    ("h1", "4. Customer advisory board"),
    (
        "p",
        "The first customer advisory board meets on 21 January 2027 in Berlin. Twelve customers have "
        "accepted the invitation.",
    ),
    ("h1", "Action items"),
    (
        "table",
        [
            "Action | Owner | Due",
            "Summarise the Northwind Analytics churn study for the support team | Priya Natarajan | 20 November 2026",
            "Fix the CSV export bug reported by Acme Logistics | Daniel Okafor | 4 December 2026",
            "Draft the 2027 pricing proposal | Tomasz Wrona | 10 December 2026",
            "Book the venue for the customer advisory board | Lea Hoffmann | 30 November 2026",
        ],
    ),
    ("p", "Next meeting: 10 December 2026 at 14:00 in room Elbe."),
]

# --------------------------------------------------------------------------------------------
# The slide deck (PowerPoint): (title, bullets) per slide.
# --------------------------------------------------------------------------------------------
DECK: list[tuple[str, list[str]]] = [
    ("Ledgerly plans 2027", ["Sales kick-off, Hamburg, 14 January 2027", "Presented by Sofia Lindqvist"]),
    (
        "Why three plans",
        [
            "Freelancers start small and grow",
            "Each plan adds users, storage and support",
            "Upgrades take effect at once",
        ],
    ),
    ("Basic plan", ["EUR 9 per month", "1 user", "10 GB storage", "Email support"]),
    ("Plus plan", ["EUR 19 per month", "Up to 3 users", "100 GB storage", "Chat and email support"]),
    (
        "Premium plan",
        ["EUR 39 per month", "Up to 10 users", "5 TB storage", "Phone support and a named account manager"],
    ),
    (
        "Targets for 2027",
        [
            "4,000 new Premium customers",
            "Halve Basic churn by the end of the year",
            "Partner programme in three countries",
        ],
    ),
    (
        "Timeline",
        [
            "Price list valid from 1 January 2027",
            "Partner programme launches on 1 March 2027",
            "Mobile app redesign in Q3 2027",
        ],
    ),
]


def make_pdf(pages: Sequence[Sequence[tuple[str, str]]], path: Path, *, title: str) -> None:
    """A PDF with one page per list entry; every line is placed as written (fpdf2's core font)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(_created())
    pdf.set_title(title)
    pdf.set_author("seed-qa project")
    pdf.set_auto_page_break(False)
    for blocks in pages:
        pdf.add_page()
        for kind, text in blocks:
            if kind == "title":
                pdf.set_font("Helvetica", "B", 15)
                pdf.multi_cell(0, 8, text)
                pdf.ln(3)
            elif kind == "h":
                pdf.ln(2)
                pdf.set_font("Helvetica", "B", 12)
                pdf.multi_cell(0, 7, text)
            elif kind == "row":
                pdf.set_font("Helvetica", "", 10)
                cells = [cell.strip() for cell in text.split("|")]
                width = (pdf.w - pdf.l_margin - pdf.r_margin) / len(cells)
                for cell in cells:
                    pdf.cell(width, 6, cell, border=1)
                pdf.ln(6)
            else:
                pdf.set_font("Helvetica", "", 10)
                for line in text.split("\n"):
                    pdf.cell(0, 5.5, line)
                    pdf.ln(5.5)
                pdf.ln(2)
    pdf.output(str(path))


def make_docx(blocks: Sequence[tuple[str, Any]], path: Path, *, title: str) -> None:
    """A Word file with a title, numbered headings, paragraphs and tables."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = "seed-qa project"
    document.core_properties.created = _created()
    document.core_properties.modified = _created()
    document.core_properties.last_modified_by = "seed-qa project"
    document.core_properties.revision = 1
    for kind, content in blocks:
        if kind == "title":
            document.add_heading(content, level=0)
        elif kind == "h1":
            document.add_heading(content, level=1)
        elif kind == "table":
            rows = [[cell.strip() for cell in row.split("|")] for row in content]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(content)
    document.save(str(path))
    _fixed_zip_dates(path)


def make_pptx(slides: Sequence[tuple[str, list[str]]], path: Path, *, title: str) -> None:
    """A deck: the first slide a title slide, the others a title and bullets."""
    import pptx

    presentation = pptx.Presentation()
    presentation.core_properties.title = title
    presentation.core_properties.author = "seed-qa project"
    presentation.core_properties.created = _created()
    presentation.core_properties.modified = _created()
    presentation.core_properties.last_modified_by = "seed-qa project"
    presentation.core_properties.revision = 1
    for number, (heading, bullets) in enumerate(slides):
        layout = presentation.slide_layouts[0 if number == 0 else 1]
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = heading
        body = slide.placeholders[1].text_frame
        body.text = bullets[0]
        for bullet in bullets[1:]:
            body.add_paragraph().text = bullet
    presentation.save(str(path))
    _fixed_zip_dates(path)


def _fixed_zip_dates(path: Path) -> None:
    """Rewrite an Office file (a zip) with every member dated ``CREATED``, so a rebuild is byte-identical."""
    import io
    import zipfile

    stamp = _created().timetuple()[:6]
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            target.writestr(zipfile.ZipInfo(info.filename, date_time=stamp), data, zipfile.ZIP_DEFLATED)
    path.write_bytes(buffer.getvalue())


def _created() -> Any:
    from datetime import UTC, datetime

    return datetime.fromisoformat(CREATED).replace(tzinfo=UTC)


def make_documents(folder: Path) -> list[Path]:
    """Write the generated (PDF, Word, PowerPoint) documents; returns their paths."""
    made = [
        folder / "aquapure-500-manual.pdf",
        folder / "fire-evacuation-procedure.pdf",
        folder / "employee-handbook.docx",
        folder / "steering-minutes-2026-11-12.docx",
        folder / "ledgerly-plans-2027.pptx",
    ]
    make_pdf(MANUAL, made[0], title="AquaPure 500 User Manual")
    make_pdf(PROCEDURE, made[1], title="SP-07 Fire Evacuation Procedure")
    make_docx(HANDBOOK, made[2], title="Northgate Software Employee Handbook")
    make_docx(MINUTES, made[3], title="Product Steering Group - Minutes of 12 November 2026")
    make_pptx(DECK, made[4], title="Ledgerly plans 2027")
    return made


# --------------------------------------------------------------------------------------------
# Offsets: every evidence quote found in the loaded text.
# --------------------------------------------------------------------------------------------


def squeeze(text: str) -> tuple[str, list[int]]:
    """``text`` with each run of whitespace as one space, and where each kept character came from."""
    out: list[str] = []
    where: list[int] = []
    space = False
    for i, char in enumerate(text):
        if char.isspace():
            if not space and out:
                out.append(" ")
                where.append(i)
            space = True
            continue
        space = False
        out.append(char)
        where.append(i)
    return "".join(out), where


def locate(text: str, quote: str, *, near: int | None = None) -> tuple[int, int]:
    """The span of ``quote`` in ``text``, whitespace runs matching any whitespace; ValueError if absent.

    Where the quote occurs more than once, the occurrence nearest ``near`` (the old start) wins.
    """
    flat, where = squeeze(text)
    wanted = " ".join(quote.split())
    found: list[int] = []
    at = flat.find(wanted)
    while at >= 0:
        found.append(at)
        at = flat.find(wanted, at + 1)
    if not found:
        raise ValueError(f"quote {quote!r} is not in the text")
    if len(found) > 1 and near is None:
        raise ValueError(f"quote {quote!r} occurs {len(found)} times; make it longer")
    best = min(found, key=lambda a: abs(where[a] - (near or 0)))
    return where[best], where[best + len(wanted) - 1] + 1


def page_of(pages: Sequence[int], start: int) -> int:
    """The 1-based page holding offset ``start``."""
    return bisect.bisect_right(list(pages), start)


def refresh_offsets(folder: Path) -> int:
    """Rewrite start/end/quote (and page) of every evidence in questions.jsonl; returns the count."""
    from qa.ingest.loading import load_file

    path = folder / QUESTIONS
    corpus = folder / DOCUMENTS
    documents: dict[str, Any] = {}
    lines = []
    count = 0
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        case = json.loads(raw)
        for evidence in case.get("evidence", []):
            source = evidence["source"]
            if source not in documents:
                documents[source] = load_file(corpus / source, source=source)
            document = documents[source]
            start, end = locate(document.text, evidence["quote"], near=evidence.get("start"))
            fresh: dict[str, Any] = {"source": source, "start": start, "end": end, "quote": document.text[start:end]}
            if document.pages:
                fresh["page"] = page_of(document.pages, start)
            evidence.clear()
            evidence.update(fresh)
            count += 1
        lines.append(json.dumps(case, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return count


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folder", type=Path, default=WORKPLACE, help="where the set lives (default: %(default)s)")
    ap.add_argument("--offsets", action="store_true", help="only refresh the evidence offsets")
    args = ap.parse_args(argv)
    if not args.offsets:
        for made in make_documents(args.folder / DOCUMENTS):
            print(f"wrote {made.relative_to(args.folder)}", file=sys.stderr)
    if (args.folder / QUESTIONS).is_file():
        print(f"{refresh_offsets(args.folder)} evidence offsets refreshed", file=sys.stderr)


if __name__ == "__main__":
    main()
