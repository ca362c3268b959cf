"""The Slack bot with the real bundled model and the default answerer, end to end over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from api.slack.app import mount_slack
from qa import QAService
from tests.slack.conftest import MemorySessions, make_settings, slack_parts
from tests.slack.slack_standin import Slack, SlackStandIn, message_text, new_ts
from tests.support import BAYKAR_QUOTE, serving

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory, standin: SlackStandIn, real_embedder: Any) -> Iterator[Slack]:
    settings = make_settings(
        tmp_path_factory.mktemp("slack-e2e"), api_url=standin.api_url, embedder="sentence-transformers", answerer="auto"
    )
    service = QAService(settings, embedder=real_embedder)
    service.ensure_index()
    app = FastAPI()
    mount_slack(app, settings=settings, **slack_parts(service, settings, MemorySessions()))
    with serving(app) as url:
        yield Slack(url, standin)


def test_mention_answers_baykar_with_the_quoted_sentence(slack: Slack, channel: str) -> None:
    ts = new_ts()
    slack.mention("who makes the TB2?", channel=channel, ts=ts)
    (reply,) = slack.replies(channel)
    assert reply["thread_ts"] == ts
    assert "Baykar" in reply["blocks"][0]["text"]["text"]
    assert "*[1]*" in message_text(reply) and BAYKAR_QUOTE in message_text(reply)


def test_follow_up_in_the_thread_is_answered_from_the_thread(slack: Slack, channel: str) -> None:
    first = new_ts()
    slack.mention("who makes the TB2?", channel=channel, ts=first)
    slack.replies(channel)
    slack.mention("where did they open a factory?", channel=channel, thread_ts=first)
    follow_up = slack.replies(channel, count=2)[1]
    assert follow_up["thread_ts"] == first
    assert "Kyiv" in message_text(follow_up)


def test_direct_message_answers_too(slack: Slack) -> None:
    channel, ts = "D0E2EDM01", new_ts()
    slack.dm("Which company manufactures the Bayraktar TB2?", channel=channel, ts=ts)
    (reply,) = slack.replies(channel)
    assert reply["thread_ts"] == ts and BAYKAR_QUOTE in message_text(reply)


def test_uncovered_question_abstains_without_sources(slack: Slack, channel: str) -> None:
    slack.mention("What is the boiling point of mercury?", channel=channel)
    (reply,) = slack.replies(channel)
    assert "don't cover" in reply["text"] and "[1]" not in message_text(reply)
