"""Reports: report.json (the record ``--compare`` reads), report.md and report.html with charts."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qa.evaluation import charts
from qa.evaluation.abstention import SweepPoint, best_point
from qa.evaluation.results import row_to_dict
from qa.evaluation.runner import EvalRun

REPORT_VERSION = 1
_FAILURES_SHOWN = 50


def report_dict(run: EvalRun, sweep: Sequence[SweepPoint] = ()) -> dict[str, Any]:
    """The JSON report: meta, metrics, per-type scores, optional sweep and every question."""
    best = best_point(sweep)
    return {
        "version": REPORT_VERSION,
        "meta": run.meta,
        "metrics": run.metrics,
        "by_type": run.by_type,
        "sweep": {"best": asdict(best) if best else None, "points": [asdict(p) for p in sweep]} if sweep else None,
        "questions": [row_to_dict(row) for row in run.rows],
    }


def load_report(path: Path) -> dict[str, Any]:
    """Read a report.json written by ``qa eval --report``."""
    from qa.errors import InvalidTestSetError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidTestSetError(
            f"Cannot read report {str(path)!r} ({exc}); pass a report.json from `qa eval --report`."
        ) from None
    if not isinstance(data, dict) or "metrics" not in data:
        raise InvalidTestSetError(f"{path} is not a report.json from `qa eval --report`.")
    return data


def format_value(name: str, value: float | None) -> str:
    """A metric for people: counts as integers, latencies in ms, the rest with 3 decimals."""
    if value is None:
        return "–"
    if name in ("questions", "answerable", "unanswerable"):
        return str(int(value))
    if name.startswith("latency_"):
        return f"{value:.1f}"
    return f"{value:.3f}"


def write_report(run: EvalRun, directory: Path, *, sweep: Sequence[SweepPoint] = ()) -> list[Path]:
    """Write report.json, report.md and report.html into ``directory``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    data = report_dict(run, sweep)
    images = _charts(run, sweep)
    paths = [directory / "report.json", directory / "report.md", directory / "report.html"]
    paths[0].write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(render_markdown(data), encoding="utf-8")
    paths[2].write_text(render_html(data, images), encoding="utf-8")
    return paths


def _charts(run: EvalRun, sweep: Sequence[SweepPoint]) -> dict[str, bytes]:
    images: dict[str, bytes] = {}
    if run.by_type:
        images["F1 by question type"] = charts.f1_by_type(run.by_type)
        images["Confidence distribution"] = charts.confidence_distribution(run.rows)
    images["Latency"] = charts.latency_histogram(run.rows)
    if sweep:
        images["Abstention sweep"] = charts.abstention_curve(sweep, best_point(sweep))
    return images


def _failures(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for q in data["questions"] if q["correct"] is False or q["citation_correct"] is False][:_FAILURES_SHOWN]


def _meta_line(meta: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in meta.items() if v is not None)


def render_markdown(data: dict[str, Any]) -> str:
    """The report as Markdown tables."""
    lines = ["# Evaluation report", "", _meta_line(data["meta"]), "", "| metric | value |", "|---|---|"]
    lines += [f"| {name} | {format_value(name, value)} |" for name, value in data["metrics"].items()]
    if data["by_type"]:
        lines += [
            "",
            "## By question type (answerable)",
            "",
            "| type | n | F1 | EM | accuracy |",
            "|---|---|---|---|---|",
        ]
        for name, s in data["by_type"].items():
            lines.append(
                f"| {name} | {int(s['questions'])} | {s['f1']:.3f} | {s['exact_match']:.3f} "
                f"| {s['answer_accuracy']:.3f} |"
            )
    if data["sweep"] and data["sweep"]["best"]:
        best = data["sweep"]["best"]
        lines += [
            "",
            "## Abstention sweep",
            "",
            f"Best threshold {best['threshold']:.2f}: precision "
            f"{best['precision']:.3f}, recall {best['recall']:.3f}, F1 {best['f1']:.3f}, "
            f"overall accuracy {best['overall_accuracy']:.3f}.",
        ]
    failures = _failures(data)
    if failures:
        lines += [
            "",
            "## Misses",
            "",
            "| id | question | expected | got | status | confidence | cited right |",
            "|---|---|---|---|---|---|---|",
        ]
        for q in failures:
            cells = [
                q["id"],
                q["question"],
                " / ".join(q["expected"]) or "(unanswerable)",
                q["got"] or "",
                q["status"],
                f"{q['confidence']:.3f}",
                str(q["citation_correct"]),
            ]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render_html(data: dict[str, Any], images: dict[str, bytes]) -> str:
    """A self-contained HTML page: tables plus charts embedded as PNG data URIs."""
    e = html.escape
    rows = "".join(f"<tr><td>{e(n)}</td><td>{format_value(n, v)}</td></tr>" for n, v in data["metrics"].items())
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>qa eval report</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
        "img{max-width:100%}</style></head><body><h1>Evaluation report</h1>",
        f"<p>{e(_meta_line(data['meta']))}</p>",
        f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table>",
    ]
    if data["sweep"] and data["sweep"]["best"]:
        best = data["sweep"]["best"]
        parts.append(
            f"<p>Best abstention threshold: <b>{best['threshold']:.2f}</b> (overall accuracy "
            f"{best['overall_accuracy']:.3f}, abstention F1 {best['f1']:.3f}).</p>"
        )
    for title, png in images.items():
        encoded = base64.b64encode(png).decode("ascii")
        parts.append(f"<h2>{e(title)}</h2><img alt='{e(title)}' src='data:image/png;base64,{encoded}'>")
    failures = _failures(data)
    if failures:
        parts.append(
            "<h2>Misses</h2><table><tr><th>id</th><th>question</th><th>expected</th><th>got</th>"
            "<th>status</th><th>confidence</th><th>citations</th></tr>"
        )
        for q in failures:
            cites = "<br>".join(
                f"{'✓' if c['correct'] else '✗'} {e(c['source'])} {c['start']}-{c['end']}: {e(c['quote'][:200])}"
                for c in q["citations"]
            )
            parts.append(
                f"<tr><td>{e(q['id'])}</td><td>{e(q['question'])}</td>"
                f"<td>{e(' / '.join(q['expected']) or '(unanswerable)')}</td><td>{e(q['got'] or '')}</td>"
                f"<td>{e(q['status'])}</td><td>{q['confidence']:.3f}</td><td>{cites}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
