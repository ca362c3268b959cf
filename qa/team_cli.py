"""The team commands of ``qa``: ``collections``, ``keys``, ``feedback export`` and ``gaps``.

Registered on the main app by ``qa.cli``; each is a thin layer over ``qa.collections`` and
``qa.feedback``, reading the same settings (QA_DATA_DIR, QA_KEYS_FILE) as the server.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from qa.config import Settings
from qa.errors import QAError

collections_app = typer.Typer(help="Named knowledge bases: list, create, delete.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys with roles (reader, editor, admin).", no_args_is_help=True)
feedback_app = typer.Typer(help="Answer feedback: export it as a qa eval test set.", no_args_is_help=True)

CollectionOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--collection", "-c", help="Collection name (default: every one / default)."),
]


def _fail(error: QAError) -> typer.Exit:
    typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2 if error.status_code < 500 else 1)


def _registry(settings: Settings):  # type: ignore[no-untyped-def]
    from qa.collections.registry import CollectionRegistry

    return CollectionRegistry(settings, watch=False)


@collections_app.command("list")
def list_collections() -> None:
    """Print every collection with its documents folder."""
    from qa.collections.library import library_for

    settings = Settings()
    for name in _registry(settings).names():
        library = library_for(settings, name)
        typer.echo(f"{name}\t{library.hand_dir}\t{len(library.files())} files")


@collections_app.command("create")
def create_collection(name: Annotated[str, typer.Argument(help="lowercase letters, digits, dashes")]) -> None:
    """Create an empty collection; put files in the folder it prints, or upload them."""
    try:
        collection = _registry(Settings()).create(name)
    except QAError as error:
        raise _fail(error) from None
    typer.echo(f"Created {name}: put documents in {collection.library.hand_dir}")


@collections_app.command("delete")
def delete_collection(name: str) -> None:
    """Retire a collection; its files are moved aside, never erased."""
    try:
        kept = _registry(Settings()).delete(name)
    except QAError as error:
        raise _fail(error) from None
    typer.echo(f"Deleted {name}; its files are kept in {kept}")


@keys_app.command("add")
def add_key(
    name: Annotated[str, typer.Argument(help="Who the key is for, e.g. 'hr-bot'.")],
    role: Annotated[str, typer.Option("--role", help="reader, editor or admin.")] = "reader",
    collection: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--collection", "-c", help="A collection it may read (repeat); none: every one."),
    ] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Keys file (QA_KEYS_FILE).")] = None,  # noqa: UP045
) -> None:
    """Make a key, store only its sha256 in the keys file, and print the key once."""
    from qa.collections.access import ROLES, add_key

    if role not in ROLES:
        raise typer.BadParameter(f"--role must be one of {', '.join(ROLES)}, got {role!r}.")
    settings = Settings()
    path = file or settings.keys_file or settings.data_dir / "keys.json"
    key = secrets.token_urlsafe(32)
    add_key(path, name, role=role, collections=collection, key=key)
    typer.echo(key)
    typer.secho(f"Stored its sha256 in {path}; serve with QA_KEYS_FILE={path}. The key is not shown again.", err=True)


@feedback_app.command("export")
def export_feedback(
    out: Annotated[Path, typer.Argument(help="The .jsonl test set to write.")],
    collection: CollectionOption = None,
) -> None:
    """Write the collection's feedback as a test set; run it with `qa eval OUT --collection NAME`."""
    from qa.collections.library import library_for
    from qa.evaluation.testset import write_jsonl
    from qa.feedback.export import export_cases
    from qa.feedback.log import AnswerLog

    settings = Settings()
    name = collection or "default"
    try:
        _registry(settings).get(name)
        report = export_cases(AnswerLog(settings.answers_path), library_for(settings, name).hashes(), collection=name)
    except QAError as error:
        raise _fail(error) from None
    if not report.cases:
        raise _fail(QAError(f"No feedback to export in collection {name!r}: vote on some answers first."))
    write_jsonl(report.cases, out)
    typer.echo(
        f"Wrote {len(report.cases)} questions to {out} ({report.down_without_correction} down-votes without a "
        f"correction left out, {report.dropped_changed} answers and {report.dropped_quotes} quotes dropped "
        "because their files changed)."
    )


def gaps(
    collection: CollectionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What the documents do not answer: abstained and down-voted questions, near-duplicates grouped."""
    from qa.feedback.gaps import find_gaps
    from qa.feedback.log import AnswerLog

    settings = Settings()
    registry = _registry(settings)
    log = AnswerLog(settings.answers_path)
    try:
        names = [collection] if collection else registry.names()
        found = []
        for name in names:
            service = registry.get(name).service
            with contextlib.suppress(QAError):  # no index: no closest passages, the questions still count
                service.load()
            found.extend(find_gaps(log, service, name))
    except QAError as error:
        raise _fail(error) from None
    if as_json:
        typer.echo(json.dumps([g.to_dict() for g in found], ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo("No gaps: every logged question was answered and none was voted down.")
    for gap in found:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(gap.last_asked))
        typer.echo(
            f"[{gap.collection}] {gap.question}  ×{gap.count} ({gap.abstained} abstained, "
            f"{gap.down_votes} down) last {when}"
        )
        for passage in gap.closest[:1]:
            typer.echo(f"    closest: {passage['source']}: {passage['text'][:100]}")
