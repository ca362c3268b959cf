"""The `qa` command line: ingest, ask, chat, doctor, serve. A thin layer over QAService."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from qa.config import Settings
from qa.errors import QAError

if TYPE_CHECKING:
    from qa.service import QAService

app = typer.Typer(
    name="qa",
    help="Offline, cited answers over the documents in your seeds folder.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SeedsOption = Annotated[Optional[Path], typer.Option("--seeds", help="Documents folder (QA_SEEDS_DIR).")]  # noqa: UP045
IndexOption = Annotated[Optional[Path], typer.Option("--index", help="Index folder (QA_INDEX_DIR).")]  # noqa: UP045


def _settings(seeds: Path | None = None, index: Path | None = None) -> Settings:
    overrides = {k: v for k, v in {"seeds_dir": seeds, "index_dir": index}.items() if v is not None}
    return Settings(**overrides)  # type: ignore[arg-type]


def _service(settings: Settings) -> QAService:
    from qa.service import QAService

    return QAService(settings)


def _warn_if_stale(service: QAService) -> None:
    """Warn (stderr) when the seeds folder changed since the loaded index was built."""
    changes = service.library.changes(service.manifest.files)
    if changes.stale:
        typer.secho(
            f"warning: the seeds folder changed since the index was built: {changes.describe()}. "
            "Answers come from the old index; run `qa ingest` to update it.",
            fg=typer.colors.YELLOW,
            err=True,
        )


def _bars() -> bool:
    """Progress bars only for a person at a terminal: in a pipe or a log file they are noise."""
    return sys.stderr.isatty()


def _fail(error: QAError) -> typer.Exit:
    typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2 if error.status_code < 500 else 1)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    from pydantic import ValidationError

    from qa.console import configure_cli_logging

    try:
        level: str = Settings().log_level  # QA_LOG_LEVEL, from the environment or .env
    except ValidationError:  # the command itself reports a bad setting, with its name
        level = "info"
    configure_cli_logging(verbose=verbose, level=level)


@app.command()
def ingest(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed everything, ignoring the old index.")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="Embed on Ray: the cluster at ADDRESS, or a local Ray.")] = False,
    address: Annotated[Optional[str], typer.Argument(help="Ray address for --ray (ray://head:10001, auto).")] = None,  # noqa: UP045
    seeds: SeedsOption = None,
    index: IndexOption = None,
) -> None:
    """(Re)build the index from the seeds folder; only changed files are re-embedded."""
    settings = _settings(seeds, index)
    try:
        if address and not ray:
            raise typer.BadParameter(f"{address!r} is a Ray address: add --ray (`qa ingest --ray {address}`).")
        if ray:
            from qa.ingest.distributed import ray_ingest

            report = ray_ingest(_service(settings), address=address, rebuild=rebuild, show_progress=_bars())
        else:
            report = _service(settings).ingest(rebuild=rebuild, show_progress=_bars())
    except QAError as error:
        raise _fail(error) from None
    for skipped in report.skipped:
        typer.secho(f"skipped {skipped.source}: {skipped.reason}", fg=typer.colors.YELLOW, err=True)
    if not report.changed:
        typer.echo(f"Index is up to date: {report.chunks} chunks from {len(report.unchanged)} files.")
        return
    typer.echo(
        f"Indexed {report.chunks} chunks ({report.embedded_chunks} embedded) into {settings.index_dir} "
        f"in {report.seconds:.1f}s: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged."
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    top_k: Annotated[Optional[int], typer.Option("--top-k", min=1, max=50, help="Chunks to retrieve.")] = None,  # noqa: UP045
    server: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--server", help="A running `qa serve` to ask (default: QA_HOST:QA_PORT, if one answers)."),
    ] = None,
    local: Annotated[bool, typer.Option("--local", help="Answer in this process; do not look for a server.")] = False,
    seeds: SeedsOption = None,
    index: IndexOption = None,
) -> None:
    """Answer one question with citations: through a running server when there is one, else here
    (building the index first if there is none)."""
    from qa.validation import validate_question

    settings = _settings(seeds, index)
    try:
        validate_question(question, max_chars=settings.max_question_chars)  # before loading any model
        # The configured server serves the configured folder: with --seeds/--index, only --server asks one.
        url = server or (None if local or seeds or index else _default_server(settings))
        data = _ask_server(settings, url, question, top_k=top_k, say_why=server is not None) if url else None
        if data is None:
            service = _service(settings)
            service.ensure_index(show_progress=_bars() and not as_json)
            _warn_if_stale(service)
            data = service.ask(question, top_k=top_k).to_dict()
    except QAError as error:
        raise _fail(error) from None
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _print_answer(data)


def _default_server(settings: Settings) -> str:
    from qa.remote import server_url

    return server_url(settings.host, settings.port)


def _ask_server(
    settings: Settings, url: str, question: str, *, top_k: int | None, say_why: bool
) -> dict[str, Any] | None:
    """The server's answer, or None (with a one-line note when that server was asked for) to answer here."""
    from qa.errors import ServerUnavailableError
    from qa.remote import ask_server

    key = settings.api_keys[0].get_secret_value() if settings.api_keys else None
    try:
        return ask_server(url, question, top_k=top_k, api_key=key, timeout_s=settings.request_timeout_s)
    except ServerUnavailableError as error:
        if say_why:
            typer.secho(f"note: {error.message}; answering here instead.", fg=typer.colors.YELLOW, err=True)
        return None


@app.command()
def chat(seeds: SeedsOption = None, index: IndexOption = None) -> None:
    """A terminal chat: follow-up questions use the conversation so far. Ctrl-D to quit."""
    from qa.sessions import SQLiteSessionStore
    from qa.sessions.chat import Chat

    settings = _settings(seeds, index)
    try:
        service = _service(settings)
        service.ensure_index(show_progress=_bars())
        _warn_if_stale(service)
    except QAError as error:
        raise _fail(error) from None
    # The conversation lives in memory, under the same caps and expiry as the HTTP and Slack chats.
    sessions = SQLiteSessionStore(None, ttl_s=settings.session_ttl_s, max_turns=settings.max_session_turns)
    talk = Chat.from_settings(settings, sessions)  # the same history limits as every front end
    session_id = sessions.new_id()
    typer.echo("Ask about your documents. Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            typer.echo()
            return
        if not question:
            return
        try:
            conversation = talk.open(session_id, owner="terminal", collection="default", missing="new")
            answer = talk.ask(service, question, conversation, owner="terminal", collection="default")
        except QAError as error:
            typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
            continue
        _print_answer(answer.to_dict())


@app.command()
def doctor(seeds: SeedsOption = None, index: IndexOption = None) -> None:
    """Check, offline, that the model, index and seeds are ready and consistent."""
    from qa.health import run_checks

    checks = run_checks(_settings(seeds, index))
    for check in checks:
        colour = typer.colors.GREEN if check.ok else typer.colors.RED
        typer.secho(f"{'ok ' if check.ok else 'FAIL'} {check.name}: {check.detail}", fg=colour)
    if not all(check.ok for check in checks):
        raise typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to bind (QA_HOST).")] = None,  # noqa: UP045
    port: Annotated[Optional[int], typer.Option(help="Port (QA_PORT).")] = None,  # noqa: UP045
    seeds: SeedsOption = None,
    index: IndexOption = None,
) -> None:
    """Run the HTTP API and web chat (builds the index first if there is none)."""
    try:
        from api.server import run_server
    except ImportError as exc:
        typer.secho(f"error: the web server is not installed ({exc}).", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    settings = _settings(seeds, index)
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    try:
        run_server(settings.model_copy(update=overrides))
    except QAError as error:
        raise _fail(error) from None


def _print_answer(answer: dict[str, Any]) -> None:
    """An answer in the JSON contract (from this process or a server), for a person."""
    from rich.console import Console
    from rich.markup import escape

    from qa.schema import NOT_STATED_MESSAGE

    console = Console(highlight=False)
    if answer["status"] == "abstained":
        related = answer.get("related") or ()
        if not related:
            console.print(f"[yellow]{escape(answer.get('message') or 'The documents do not cover this.')}[/yellow]")
            return
        # The closest passages, each with where to find it: pointers, not citations.
        console.print(f"[yellow]{escape(NOT_STATED_MESSAGE)}[/yellow]")
        for passage in related:
            console.print(f"  [cyan][{passage['n']}][/cyan] \u201c{escape(passage['quote'])}\u201d")
            console.print(f"      {_where(passage)}")
        return
    console.print(f"[bold green]{escape(answer.get('answer') or '')}[/bold green]")
    sentence = answer.get("sentence")
    if sentence and sentence != answer.get("answer"):
        console.print(f"  {escape(sentence)}")
    for citation in answer.get("citations", ()):
        console.print(f"  [cyan][{citation['n']}][/cyan] {_where(citation)}")


def _where(citation: dict[str, Any]) -> str:
    """A citation's (or related passage's) title, file, page and characters, as rich markup."""
    from rich.markup import escape

    page = f", p. {citation['page']}" if citation.get("page") else ""
    return (
        f"{escape(citation['title'])} [dim]({escape(citation['source'])}{page}, "
        f"chars {citation['start']}-{citation['end']})[/dim]"
    )


@app.command()
def slack(seeds: SeedsOption = None, index: IndexOption = None) -> None:
    """Answer Slack mentions and DMs over Socket Mode (QA_SLACK_APP_TOKEN, QA_SLACK_BOT_TOKEN)."""
    try:
        from api.slack.app import run_socket_mode
    except ImportError as exc:
        typer.secho(f"error: the Slack bot is not installed ({exc}).", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    try:
        run_socket_mode(_settings(seeds, index))
    except QAError as error:
        raise _fail(error) from None


@app.command("eval")
def eval_(
    testset: Annotated[Optional[Path], typer.Argument(help="Test set: .jsonl, SQuAD .json or a BEIR folder.")] = None,  # noqa: UP045
    fmt: Annotated[str, typer.Option("--format", help="jsonl, squad or beir.")] = "jsonl",
    report: Annotated[Optional[Path], typer.Option("--report", help="Write report.json/.md/.html here.")] = None,  # noqa: UP045
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Seeded sample of questions.")] = None,  # noqa: UP045
    seed: Annotated[int, typer.Option("--seed", help="Seed of the --limit sample.")] = 0,
    gates: Annotated[Optional[list[str]], typer.Option("--min", help="METRIC=VALUE floor; repeatable.")] = None,  # noqa: UP045
    sweep_abstention: Annotated[bool, typer.Option("--sweep-abstention", help="Abstention P/R per threshold.")] = False,
    compare: Annotated[Optional[tuple[Path, Path]], typer.Option("--compare", help="OLD NEW report.json.")] = None,  # noqa: UP045
    answerer: Annotated[Optional[str], typer.Option("--answerer", help="auto, reader or sentence.")] = None,  # noqa: UP045
    threshold: Annotated[Optional[float], typer.Option("--threshold", help="Abstention threshold.")] = None,  # noqa: UP045
    article: Annotated[Optional[list[str]], typer.Option("--article", help="SQuAD: only this article.")] = None,  # noqa: UP045
    exclude_article: Annotated[Optional[list[str]], typer.Option("--exclude-article", help="SQuAD: skip it.")] = None,  # noqa: UP045
    work_dir: Annotated[Optional[Path], typer.Option("--work-dir", help="Keep imported corpus+index here.")] = None,  # noqa: UP045
    collection: Annotated[Optional[str], typer.Option("--collection", help="Answer from this collection.")] = None,  # noqa: UP045
    seeds: SeedsOption = None,
    index: IndexOption = None,
) -> None:
    """Score answers, citations, abstention and retrieval on a test set (docs/EVALUATION.md)."""
    from pydantic import ValidationError

    from qa.evaluation.command import EvalOptions, run_command

    if fmt not in ("jsonl", "squad", "beir"):
        raise typer.BadParameter(f"--format must be jsonl, squad or beir, got {fmt!r}.")
    try:
        settings = _settings(seeds, index)
        overrides = {k: v for k, v in {"answerer": answerer, "abstain_threshold": threshold}.items() if v is not None}
        settings = Settings(**{**settings.model_dump(), **overrides}) if overrides else settings
        options = EvalOptions(
            testset=testset,
            format=fmt,  # type: ignore[arg-type]
            report_dir=report,
            limit=limit,
            seed=seed,
            gates=tuple(gates or ()),
            sweep_abstention=sweep_abstention,
            compare=compare,
            articles=tuple(article or ()),
            exclude_articles=tuple(exclude_article or ()),
            work_dir=work_dir,
            collection=collection,
        )
        code = run_command(settings, options)
    except ValidationError as exc:
        raise typer.BadParameter(str(exc.errors()[0]["msg"])) from None
    except QAError as error:
        raise _fail(error) from None
    if code:
        raise typer.Exit(code=code)


def _add_team_commands() -> None:
    from qa.team_cli import collections_app, feedback_app, gaps, keys_app

    app.add_typer(collections_app, name="collections")
    app.add_typer(keys_app, name="keys")
    app.add_typer(feedback_app, name="feedback")
    app.command("gaps")(gaps)


_add_team_commands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
