"""Slack messages from an ``Answer``: Block Kit payloads and question clean-up. Pure functions, no Slack import.

Every piece of document text is escaped (``&``, ``<``, ``>``) and sent as ``verbatim`` mrkdwn, so a
document that contains ``<!channel>`` or ``<@U123>`` is shown as text and never pings anyone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from qa.schema import ABSTAIN_MESSAGE, NOT_STATED_MESSAGE, Answer, Citation

ERROR_MESSAGE = "Sorry, something went wrong while answering that. Please try again in a minute."
NOT_READY_MESSAGE = "I am still loading the documents. Please ask again in a minute."
HELP_MESSAGE = "Ask me a question about the documents, for example: _who makes the TB2?_"

#: Action ids of the thumbs up/down buttons under an answer (their value is the answer's id).
FEEDBACK_UP = "qa_feedback_up"
FEEDBACK_DOWN = "qa_feedback_down"

# Slack's limits: 3,000 characters per section text, 50 blocks per message.
_SECTION_LIMIT = 3000
# The answer or notice in one section (and the fallback ``text``): room left for the bold markers.
_TEXT_LIMIT = _SECTION_LIMIT - 100
_QUOTE_CHARS = 1200
_MAX_SOURCES = 10

_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<`` and ``>`` in text a user typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def question_from_slack(text: str, *, bot_user_id: str | None = None) -> str:
    """The plain question in a Slack message: the bot's mention removed, links and entities made plain.

    ``<@BOT> who makes the <https://x.io|TB2>?`` becomes ``who makes the TB2?``. Without a known
    bot user id, a mention at the very start is taken to be the bot's.
    """
    if bot_user_id:
        # [^<>]: a label scan stops at the next "<", so "<@BOT|" repeated stays linear.
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^<>]*+)?>", " ", text)
    else:
        text = re.sub(r"^\s*+<@[A-Z0-9]++(?:\|[^<>]*+)?>", " ", text)

    def plain(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if label:
            return label
        if target.startswith("@"):  # another user: keep something readable
            return target
        if target.startswith(("#", "!")):
            return ""
        return target

    return " ".join(unescape(_LINK.sub(plain, text)).split())


def answer_message(answer: Answer, *, feedback: bool = False) -> dict[str, Any]:
    """``text`` (notification fallback) and ``blocks`` for ``chat.postMessage``: the answer, then numbered sources.

    An abstention with closest passages (``Answer.related``) says "Not stated directly" and lists
    them the same way; one without says only its message. With ``feedback``, thumbs up/down
    buttons follow (an abstention gets them too: "this should be answered").
    """
    message = _answer_blocks(answer)
    if feedback:
        message["blocks"].append(feedback_block(answer.id))
    return message


def feedback_block(answer_id: str) -> dict[str, Any]:
    """An actions block with thumbs up/down buttons carrying the answer's id."""
    return {
        "type": "actions",
        "block_id": "qa_feedback",
        "elements": [
            {"type": "button", "action_id": action, "value": answer_id, "text": {"type": "plain_text", "text": label}}
            for action, label in ((FEEDBACK_UP, "👍 Helpful"), (FEEDBACK_DOWN, "👎 Not helpful"))
        ],
    }


def _answer_blocks(answer: Answer) -> dict[str, Any]:
    if answer.status == "abstained" or not answer.citations:
        if not answer.related:
            return notice_message(answer.message or ABSTAIN_MESSAGE)
        blocks = [_section(f"*{NOT_STATED_MESSAGE}*"), *_quote_blocks(answer.related)]
        passages = ", ".join(f"[{c.n}] {c.title}" for c in answer.related[:_MAX_SOURCES])
        return {"text": _fit(f"{NOT_STATED_MESSAGE} {passages}", _TEXT_LIMIT), "blocks": blocks}
    blocks = [_section(f"*{_fit(answer.answer or answer.sentence or '', _TEXT_LIMIT)}*")]
    blocks.append({"type": "context", "elements": [_mrkdwn("*Sources*")]})
    blocks.extend(_quote_blocks(answer.citations))
    sources = ", ".join(f"[{c.n}] {c.title}" for c in answer.citations[:_MAX_SOURCES])
    return {"text": _fit(f"{answer.answer or ''} ({sources})", _TEXT_LIMIT), "blocks": blocks}


def _quote_blocks(citations: Sequence[Citation]) -> list[dict[str, Any]]:
    """One section per citation: its number, title, file (and page), then the quote."""
    blocks = []
    for citation in citations[:_MAX_SOURCES]:
        quote = _fit(" ".join(citation.quote.split()), _QUOTE_CHARS)
        page = f", p. {citation.page}" if citation.page else ""
        heading = f"*[{citation.n}]* *{_fit(citation.title, 300)}*  ·  `{_fit(citation.source, 300)}`{page}"
        blocks.append(_section(f"{heading}\n> {quote}"))
    return blocks


def notice_message(text: str) -> dict[str, Any]:
    """A plain one-section message (abstention, help, error); ``text`` is escaped here."""
    return {"text": _fit(text, _TEXT_LIMIT), "blocks": [_section(_fit(text, _TEXT_LIMIT))]}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: no auto-linking of URLs, channel names or mentions in what we send.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _fit(raw: str, limit: int) -> str:
    """``raw`` escaped and cut (before escaping, so no entity is split) to at most ``limit`` characters."""
    escaped = escape(raw)
    while len(escaped) > limit:
        raw = raw[: max(0, len(raw) - (len(escaped) - limit) - 1)]
        escaped = escape(raw) + "…"
    return escaped
