"""Block Kit messages from answers, and questions from Slack text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from api.slack.formatting import ERROR_MESSAGE, answer_message, escape, notice_message, question_from_slack
from qa.schema import ABSTAIN_MESSAGE, NOT_STATED_MESSAGE, Answer, Citation


def citation(n: int, quote: str, *, title: str = "Zelensky in Istanbul", source: str = "zelensky.txt") -> Citation:
    return Citation(n=n, source=source, title=title, doc_id="d", chunk_id="c", start=0, end=len(quote), quote=quote,
                    score=0.9)  # fmt: skip


def answered(text: str, *citations: Citation) -> Answer:
    return Answer(question="q", answer=text, status="answered", sentence=text, citations=citations)


def all_text(message: dict[str, Any]) -> str:
    texts = [message["text"]]
    for block in message["blocks"]:
        texts += [block["text"]["text"]] if "text" in block else [e["text"] for e in block["elements"]]
    return "\n".join(texts)


def test_answer_then_numbered_sources_with_title_and_quote() -> None:
    message = answer_message(
        answered("Baykar", citation(1, "Baykar makes the TB2."), citation(2, "A factory opened near Kyiv.", title="B"))
    )
    blocks = message["blocks"]
    assert blocks[0]["text"]["text"] == "*Baykar*"
    sources = [b["text"]["text"] for b in blocks if b["type"] == "section"][1:]
    assert sources[0].startswith("*[1]* *Zelensky in Istanbul*") and sources[0].endswith("\n> Baykar makes the TB2.")
    assert sources[1].startswith("*[2]* *B*") and "A factory opened near Kyiv." in sources[1]
    assert message["text"].startswith("Baykar")


def test_document_text_cannot_ping_or_link() -> None:
    quote = "Tell <!channel> and <@U123> & <https://evil.example|click>."
    message = answer_message(answered("<!here>", citation(1, quote, title="<!everyone> news", source="a<b>.txt")))
    text = all_text(message)
    assert "<" not in text and ">" not in text.replace("\n> ", "\n")
    assert "&lt;!channel&gt;" in text and "&lt;@U123&gt;" in text and "&amp;" in text
    assert all(b["text"]["verbatim"] for b in message["blocks"] if "text" in b)


def test_abstention_says_so_and_cites_nothing() -> None:
    answer = Answer(question="q", answer=None, status="abstained", sentence=None, citations=(), message=None)
    message = answer_message(answer)
    assert message["text"] == ABSTAIN_MESSAGE
    assert len(message["blocks"]) == 1 and "[1]" not in all_text(message)


def test_abstention_with_closest_passages_lists_them_not_as_sources() -> None:
    related = (citation(1, "The TB2 is made by <Baykar>."), replace(citation(2, "Kyiv gets a factory."), page=3))
    answer = Answer(
        question="q", answer=None, status="abstained", sentence=None, citations=(), message=None, related=related
    )
    message = answer_message(answer)
    assert message["blocks"][0]["text"]["text"] == f"*{NOT_STATED_MESSAGE}*"
    assert message["text"] == f"{NOT_STATED_MESSAGE} [1] Zelensky in Istanbul, [2] Zelensky in Istanbul"
    text = all_text(message)
    assert "> The TB2 is made by &lt;Baykar&gt;." in text and "`zelensky.txt`, p. 3\n> Kyiv gets a factory." in text
    assert "Sources" not in text


def test_long_quotes_fit_slack_limits_without_splitting_entities() -> None:
    quote = "a & b " * 2000
    message = answer_message(answered("x" * 5000, citation(1, quote)))
    for block in message["blocks"]:
        if "text" in block:
            assert len(block["text"]["text"]) <= 3000
            assert not block["text"]["text"].rstrip("…*").endswith(("&", "&a", "&am", "&amp"))
    assert len(message["text"]) <= 3000


def test_notice_escapes() -> None:
    assert notice_message("a <b> & c")["text"] == "a &lt;b&gt; &amp; c"
    assert notice_message(ERROR_MESSAGE)["blocks"][0]["text"]["text"] == ERROR_MESSAGE


def test_escape() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_question_loses_the_bot_mention_and_slack_markup() -> None:
    assert question_from_slack("<@UBOT> who makes the TB2?", bot_user_id="UBOT") == "who makes the TB2?"
    assert question_from_slack("<@UBOT|seed-qa>  who   makes it?", bot_user_id="UBOT") == "who makes it?"
    assert question_from_slack("<@UX1> who makes it?") == "who makes it?"
    assert question_from_slack("is <https://baykar.tech|Baykar> &amp; co &lt;big&gt;?") == "is Baykar & co <big>?"
    assert question_from_slack("<@UBOT>", bot_user_id="UBOT") == ""
    assert question_from_slack("ask <@U0BOB> about <!here>", bot_user_id="UBOT") == "ask @U0BOB about"


def test_manifest_asks_for_what_the_bot_handles() -> None:
    yaml = pytest.importorskip("yaml")
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "deploy" / "slack-manifest.yml").read_text())
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read", "chat:write", "im:history", "im:read", "im:write", "commands"
    }  # fmt: skip
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/ask"]
    assert manifest["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
