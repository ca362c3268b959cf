"""Rich tables for the terminal: metrics, comparisons, the abstention sweep and gate failures."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from qa.evaluation.abstention import SweepPoint, best_point
from qa.evaluation.compare import Comparison, GateFailure
from qa.evaluation.report import format_value

_COLOURS = {"better": "green", "worse": "red", "same": "dim"}
_SWEEP_ROW_STEP = 0.05


def print_metrics(console: Console, metrics: dict[str, float | None], *, title: str) -> None:
    """One row per metric."""
    table = Table(title=escape(title))
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(escape(name), format_value(name, value))
    console.print(table)


def print_comparison(console: Console, comparison: Comparison, *, questions_shown: int = 40) -> None:
    """Metric deltas, then the questions that got better or worse."""
    table = Table(title="Metrics: old → new")
    for column in ("metric", "old", "new", "delta", ""):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for change in comparison.metrics:
        colour = _COLOURS[change.verdict]
        delta = "–" if change.delta is None else f"{change.delta:+.3f}"
        table.add_row(
            escape(change.name),
            format_value(change.name, change.old),
            format_value(change.name, change.new),
            f"[{colour}]{delta}[/{colour}]",
            f"[{colour}]{change.verdict}[/{colour}]",
        )
    console.print(table)
    worse = sum(q.verdict == "worse" for q in comparison.questions)
    console.print(
        f"{len(comparison.questions) - worse} questions better, {worse} worse "
        f"({comparison.only_old} only in old, {comparison.only_new} only in new)."
    )
    if comparison.questions:
        table = Table(title="Questions that changed")
        for column in ("", "id", "question", "old", "new"):
            table.add_column(column)
        for q in comparison.questions[:questions_shown]:
            colour = _COLOURS[q.verdict]
            table.add_row(
                f"[{colour}]{q.verdict}[/{colour}]", escape(q.id), escape(q.question), escape(q.old), escape(q.new)
            )
        console.print(table)


def print_sweep(console: Console, points: Sequence[SweepPoint]) -> None:
    """The abstention precision/recall curve (every 0.05) and the best threshold."""
    best = best_point(points)
    table = Table(title="Abstention on unanswerable questions, by confidence threshold")
    for column in ("threshold", "precision", "recall", "F1", "overall acc.", "answered"):
        table.add_column(column, justify="right")
    for point in points:
        steps = point.threshold / _SWEEP_ROW_STEP
        if abs(steps - round(steps)) > 1e-6 and point is not best:
            continue
        style = "bold" if point is best else None
        table.add_row(
            f"{point.threshold:.2f}",
            format_value("p", point.precision),
            format_value("r", point.recall),
            format_value("f", point.f1),
            format_value("a", point.overall_accuracy),
            format_value("s", point.answered_share),
            style=style,
        )
    console.print(table)
    if best is None:
        console.print("[yellow]No unanswerable questions: the sweep has no best threshold.[/yellow]")
    else:
        console.print(
            f"Best threshold: [bold]{best.threshold:.2f}[/bold] (max overall accuracy {best.overall_accuracy:.3f}; "
            f"abstention precision {format_value('p', best.precision)}, recall {format_value('r', best.recall)}, "
            f"F1 {format_value('f', best.f1)}; answers {best.answered_share:.0%} of questions)."
        )


def print_gate_failures(console: Console, failures: Sequence[GateFailure]) -> None:
    """One red line per failing gate."""
    for failure in failures:
        got = "not measured" if failure.value is None else format_value(failure.gate.metric, failure.value)
        console.print(f"[red]gate failed: {escape(failure.gate.metric)} = {got} < {failure.gate.minimum}[/red]")
