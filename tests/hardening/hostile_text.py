"""Pathological inputs for every regex that sees a question, a message or a document (issue 14).

One list, two users: ``tests/hardening/test_regex_dos.py`` runs each case at its maximum size
under a generous time bound, and ``benchmarks/bench_hostile_inputs.py`` times each case against
the same function on an ordinary input of the same length. Add a case by appending a
``HostileCase`` to ``CASES``: a name, the function, a builder of the hostile input and one of the
benign input (both take the length), and the largest length the service lets through.

Each hostile input is the shape that made the old pattern backtrack: a long run of spaces after
something a pattern starts on (``\\s*X$``, ``\\s+(?:of)?\\s*[A-Z]``, ``(\\s*)\\[``), or a prefix
repeated so every occurrence scans to the end (``<@BOT|`` with ``[^>]*``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from api.models import ChatMessage
from api.routes.completions import conversation_from_messages, strip_citation_markers
from api.slack.formatting import question_from_slack
from qa.answering import citation_check, conversation, spans
from qa.answering.prompting import escape_data
from qa.config import Settings
from qa.evaluation.metrics import normalize_answer
from qa.evaluation.testset import question_type

#: The request limits as shipped (Settings' defaults, not the environment's).
MAX_QUESTION_CHARS: int = Settings.model_fields["max_question_chars"].default
MAX_BODY_BYTES: int = Settings.model_fields["max_body_bytes"].default
MAX_HISTORY_CHARS: int = Settings.model_fields["max_history_chars"].default
#: Slack refuses message text longer than this (chat.postMessage docs), so an event carries no more.
SLACK_MAX_CHARS = 40_000
#: No setting bounds a document's sentence (one long line is one sentence, and one chunk): the
#: request body limit stands in. Span scoring does Python work per candidate phrase, linear but
#: ~25 us each on a busy machine, so a much longer run of names would need a larger bound.
DOCUMENT_CHARS = MAX_BODY_BYTES
#: Model output is bounded by the LLM's max tokens; the request body limit is a generous stand-in.
MODEL_OUTPUT_CHARS = MAX_BODY_BYTES

_PROSE = "The Baykar company makes the TB2 drone in Istanbul, Turkey, since 2014 [1]. "


def prose(n: int) -> str:
    """Ordinary English of exactly ``n`` characters: the floor every case is compared with."""
    return repeated(_PROSE, n)


def accented_prose(n: int) -> str:
    """Ordinary non-ASCII text of ``n`` characters (the floor where ASCII takes a shortcut)."""
    return repeated("Le café de Baykar à İstanbul fabrique le drone « TB2 » depuis 2014 [1]. ", n)


def spaced(head: str, n: int, tail: str = "x") -> str:
    """``head``, then spaces, then ``tail``: ``n`` characters in all."""
    return head + " " * (n - len(head) - len(tail)) + tail


def repeated(unit: str, n: int) -> str:
    """``unit`` repeated to exactly ``n`` characters."""
    return (unit * (n // len(unit) + 1))[:n]


def slack_prose(n: int) -> str:
    """An ordinary Slack message of ``n`` characters: mentions, links and text."""
    return repeated("<@UBOT> who makes the <https://baykar.tech|TB2> drone? Asked by <@U42|ayse>. ", n)


@dataclass(frozen=True, slots=True)
class HostileCase:
    """One function fed one pathological input at the largest size it can be given."""

    name: str
    run: Callable[[str], object]
    hostile: Callable[[int], str]
    size: int
    benign: Callable[[int], str] = prose


def _conversation(assistant: str) -> object:
    messages = [
        ChatMessage(role="user", content="Who makes the TB2?"),
        ChatMessage(role="assistant", content=assistant),
        ChatMessage(role="user", content="Where is it made?"),
    ]
    return conversation_from_messages(messages, Settings(_env_file=None))


def _candidates(question: str) -> Callable[[str], object]:
    return lambda sentence: spans.candidates(question, sentence)


CASES: list[HostileCase] = [
    # api/routes/completions.py: the marker stripping that froze the event loop for 7 s on 24 KB.
    HostileCase(
        "completions: markers after a run of spaces", strip_citation_markers, lambda n: spaced("a", n), MAX_BODY_BYTES
    ),
    HostileCase(
        "completions: whole conversation, spaced assistant message",
        _conversation,
        lambda n: spaced("a", n),
        MAX_HISTORY_CHARS,
    ),
    HostileCase(
        "completions: markers, digits without [", strip_citation_markers, lambda n: repeated("1]", n), MAX_BODY_BYTES
    ),
    # qa/answering/prompting.py: document text and questions going into the LLM prompt.
    HostileCase("prompting: opener then spaces", escape_data, lambda n: spaced("<", n), MAX_BODY_BYTES, accented_prose),
    HostileCase(
        "prompting: opener then combining marks",
        escape_data,
        lambda n: "<" + "\u0301" * (n - 1),
        MAX_BODY_BYTES,
        accented_prose,
    ),
    HostileCase(
        "prompting: openers and slashes",
        escape_data,
        lambda n: repeated("<\u200b/ ", n),
        MAX_BODY_BYTES,
        accented_prose,
    ),
    # NFKC sorts a run of combining marks by insertion: quadratic unless runs are cut (UAX #15).
    HostileCase(
        "prompting: alternating combining marks",
        escape_data,
        lambda n: "a" + "\u0301" * (n // 2) + "\u0316" * (n - 1 - n // 2),
        MAX_BODY_BYTES,
        accented_prose,
    ),
    HostileCase(
        "prompting: marks hidden in decompositions",
        escape_data,
        lambda n: "a" + "\u0f73" * (n - 1),
        MAX_BODY_BYTES,
        accented_prose,
    ),
    HostileCase(
        "prompting: opener then spaced marks",
        escape_data,
        lambda n: "<" + repeated(" \u0301", n - 1),
        MAX_BODY_BYTES,
        accented_prose,
    ),
    HostileCase("prompting: question, opener then spaces", escape_data, lambda n: spaced("<", n), MAX_QUESTION_CHARS),
    # qa/answering/spans.py: answer phrases in document sentences (offline answerer).
    HostileCase("spans: name then spaces", _candidates("Who makes it?"), lambda n: spaced("A", n, "b"), DOCUMENT_CHARS),
    HostileCase("spans: place then spaces", _candidates("Where is it?"), lambda n: spaced("A", n, "b"), DOCUMENT_CHARS),
    HostileCase(
        "spans: date then spaces", _candidates("When was it?"), lambda n: spaced("Monday January", n), DOCUMENT_CHARS
    ),
    HostileCase(
        "spans: names beside anchors",
        _candidates("Who makes Zed?"),
        lambda n: repeated("Zed x Bob x ", n),
        DOCUMENT_CHARS,
    ),
    HostileCase(
        "spans: preposition then spaces",
        _candidates("Where is it?"),
        lambda n: repeated("in" + " " * 50 + "Bob ", n),
        DOCUMENT_CHARS,
    ),
    HostileCase(
        "spans: answer type of a question",
        spans.answer_type,
        lambda n: repeated("how what which ", n),
        MAX_QUESTION_CHARS,
    ),
    # qa/answering/citation_check.py: model output (which can echo document text).
    HostileCase(
        "citation_check: rewrite after spaces",
        lambda t: citation_check.rewrite_markers(t, 5),
        lambda n: spaced("a", n),
        MODEL_OUTPUT_CHARS,
    ),
    HostileCase(
        "citation_check: unclosed marker list",
        lambda t: citation_check.rewrite_markers(t, 5),
        lambda n: repeated("[1, 2 ", n),
        MODEL_OUTPUT_CHARS,
    ),
    HostileCase(
        "citation_check: claims after spaces", citation_check.split_claims, lambda n: spaced("a", n), MODEL_OUTPUT_CHARS
    ),
    HostileCase(
        "citation_check: not in documents",
        citation_check.says_not_in_documents,
        lambda n: spaced("not in", n),
        MODEL_OUTPUT_CHARS,
    ),
    # api/slack/formatting.py: the raw text of a Slack event.
    HostileCase(
        "slack: repeated bot mention",
        lambda t: question_from_slack(t, bot_user_id="UBOT"),
        lambda n: repeated("<@UBOT|", n),
        SLACK_MAX_CHARS,
        slack_prose,
    ),
    HostileCase(
        "slack: leading mention then spaces",
        question_from_slack,
        lambda n: spaced("<@U1|", n),
        SLACK_MAX_CHARS,
        slack_prose,
    ),
    HostileCase(
        "slack: unclosed links", question_from_slack, lambda n: repeated("<a|", n), SLACK_MAX_CHARS, slack_prose
    ),
    # qa/answering/conversation.py and qa/evaluation: questions.
    HostileCase(
        "conversation: follow-up words",
        conversation.is_follow_up,
        lambda n: repeated("the same the company ", n),
        MAX_QUESTION_CHARS,
    ),
    HostileCase(
        "evaluation: question type", question_type, lambda n: repeated("what year which ", n), MAX_QUESTION_CHARS
    ),
    HostileCase(
        "evaluation: answer normalisation", normalize_answer, lambda n: repeated("a an the ", n), MODEL_OUTPUT_CHARS
    ),
]


def _load_markdown(text: str) -> object:
    """The whole loader on a .md file holding ``text`` (title, boilerplate, wrapped lines)."""
    import tempfile
    from pathlib import Path

    from qa.ingest.loading import load_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.md"
        path.write_text(text, "utf-8")
        return load_file(path, source="hostile.md")


def _sentences(text: str) -> object:
    from qa.text import sentence_spans

    return sentence_spans(text)


#: The largest seed file the loader reads (QA_MAX_DOCUMENT_BYTES); larger ones are skipped.
MAX_DOCUMENT_BYTES: int = Settings.model_fields["max_document_bytes"].default

#: qa/ingest/loading.py and qa/ingest/chunking.py, for the benchmark. tests/hardening/test_document_regex.py
#: times the same shapes at this size under CPU-time bounds, so test_regex_dos does not repeat them.
DOCUMENT_CASES: list[HostileCase] = [
    HostileCase(
        "loading: markdown title '# a', spaces, 'b'",
        _load_markdown,
        lambda n: spaced("# a", n, "b"),
        MAX_DOCUMENT_BYTES,
    ),
    HostileCase("loading: boilerplate, newlines", _load_markdown, lambda n: "\n" * n, MAX_DOCUMENT_BYTES),
    HostileCase("chunking: sentence boundaries, dots", _sentences, lambda n: "." * n, MAX_DOCUMENT_BYTES),
    HostileCase("chunking: a question of dots", _sentences, lambda n: "." * n, MAX_QUESTION_CHARS),
]
