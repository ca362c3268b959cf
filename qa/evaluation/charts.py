"""PNG charts for the HTML report (matplotlib, headless), returned as bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from qa.evaluation.abstention import SweepPoint
from qa.evaluation.results import QuestionRow
from qa.schema import STAGES


def _figure(width: float = 6.0, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100)


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def f1_by_type(by_type: dict[str, dict[str, float | None]]) -> bytes:
    """Bar chart: mean F1 of answerable questions per question type, with counts."""
    fig, ax = _figure()
    names = list(by_type)
    values = [by_type[n]["f1"] or 0.0 for n in names]
    bars = ax.bar(names, values, color="#4c78a8")
    for bar, name in zip(bars, names, strict=True):
        ax.annotate(
            f"n={int(by_type[name]['questions'] or 0)}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("F1")
    ax.set_title("F1 by question type (answerable questions)")
    ax.tick_params(axis="x", labelrotation=30)
    return _png(fig)


def confidence_distribution(rows: Sequence[QuestionRow]) -> bytes:
    """Histograms of confidence for answerable vs unanswerable questions."""
    fig, ax = _figure()
    bins = [i / 20 for i in range(21)]
    answerable = [r.confidence for r in rows if r.answerable]
    unanswerable = [r.confidence for r in rows if not r.answerable]
    if answerable:
        ax.hist(answerable, bins=bins, alpha=0.6, label=f"answerable (n={len(answerable)})", color="#4c78a8")
    if unanswerable:
        ax.hist(unanswerable, bins=bins, alpha=0.6, label=f"unanswerable (n={len(unanswerable)})", color="#e45756")
    ax.set_xlabel("confidence")
    ax.set_ylabel("questions")
    ax.set_title("Confidence: answerable vs unanswerable")
    ax.legend()
    return _png(fig)


def latency_histogram(rows: Sequence[QuestionRow]) -> bytes:
    """Histogram of per-question latency per stage (ms)."""
    fig, ax = _figure()
    for stage, colour in zip(STAGES, ("#72b7b2", "#f58518", "#4c78a8"), strict=True):
        values = [r.timings_ms[stage] for r in rows if stage in r.timings_ms]
        if values:
            ax.hist(values, bins=30, alpha=0.55, label=stage, color=colour)
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("questions")
    ax.set_title("Latency per stage")
    ax.legend()
    return _png(fig)


def abstention_curve(points: Sequence[SweepPoint], best: SweepPoint | None) -> bytes:
    """Abstention precision, recall and F1 against the confidence threshold."""
    fig, ax = _figure()
    xs = [p.threshold for p in points]
    for attr, colour in (("precision", "#4c78a8"), ("recall", "#e45756"), ("f1", "#54a24b")):
        ax.plot(xs, [getattr(p, attr) for p in points], label=f"abstention {attr}", color=colour)
    ax.plot(xs, [p.overall_accuracy for p in points], label="overall accuracy", color="#999999", linestyle="--")
    if best is not None:
        ax.axvline(best.threshold, color="#333333", linestyle=":", label=f"best = {best.threshold:.2f}")
    ax.set_xlabel("confidence threshold")
    ax.set_ylim(0, 1.05)
    ax.set_title("Abstention over thresholds")
    ax.legend(fontsize=8)
    return _png(fig)
