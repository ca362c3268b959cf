"""Slack inside the real HTTP app from ``create_app``: on with its settings, off without, past API keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from qa import QAService, Settings
from tests.slack.conftest import make_settings
from tests.slack.slack_standin import Slack, SlackStandIn, message_text, new_ts
from tests.support import serving


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, standin: SlackStandIn) -> Iterator[str]:
    """``create_app`` with Slack settings, served on loopback."""
    settings = make_settings(tmp_path_factory.mktemp("slack-app"), api_url=standin.api_url)
    with serving(create_app(settings, QAService(settings))) as url:
        yield url


def test_mention_through_create_app_gets_threaded_answer(app_url: str, standin: SlackStandIn, channel: str) -> None:
    slack, ts = Slack(app_url, standin), new_ts()
    assert slack.mention("who makes the Bayraktar TB2 drone?", channel=channel, ts=ts).status_code == 200
    (reply,) = slack.replies(channel)
    assert reply["thread_ts"] == ts and "Baykar" in message_text(reply)


def test_forged_request_through_create_app_is_rejected(app_url: str, standin: SlackStandIn, channel: str) -> None:
    forged = Slack(app_url, standin, secret="wrong").mention("who makes the TB2?", channel=channel)
    assert forged.status_code == 401
    assert Slack(app_url, standin).posted(channel) == []


def test_slack_needs_no_api_key(tmp_path: Path, standin: SlackStandIn, channel: str) -> None:
    settings = make_settings(tmp_path, api_url=standin.api_url, api_keys=[SecretStr("k-123-0123456789abcdef")])
    with serving(create_app(settings, QAService(settings))) as url:
        assert httpx.get(f"{url}/api/documents").status_code == 401  # the key is really required elsewhere
        slack = Slack(url, standin)
        assert slack.mention("who makes the Bayraktar TB2 drone?", channel=channel).status_code == 200
        assert "Baykar" in message_text(slack.replies(channel)[0])


def test_without_slack_settings_there_is_no_slack_endpoint(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_url="http://127.0.0.1:9/api/", slack_bot_token=None)
    with serving(create_app(settings, QAService(settings))) as url:
        assert httpx.post(f"{url}/slack/events", content=b"{}").status_code == 404


def test_half_configured_slack_stays_off(tmp_path: Path) -> None:
    settings = Settings(slack_bot_token=SecretStr("xoxb-1"), _env_file=None)  # type: ignore[call-arg]
    routes = {getattr(route, "path", None) for route in create_app(settings).routes}
    assert "/slack/events" not in routes
