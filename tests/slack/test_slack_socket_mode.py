"""Socket Mode (``qa slack``): the same bot without a signing secret, and clear errors when unconfigured."""

from __future__ import annotations

import time

from slack_bolt import BoltRequest
from typer.testing import CliRunner

from api.slack.app import build_bolt_app
from qa import QAService, Settings
from qa.cli import app as cli
from tests.slack.conftest import MemorySessions, slack_parts
from tests.slack.slack_standin import BOT_USER_ID, TEAM_ID, SlackStandIn, message_text, new_ts


def test_socket_mode_event_is_answered_in_its_thread(
    fast_service: QAService, fast_settings: Settings, standin: SlackStandIn, channel: str
) -> None:
    settings = fast_settings.model_copy(update={"slack_signing_secret": None})
    bolt = build_bolt_app(settings=settings, socket_mode=True, **slack_parts(fast_service, settings, MemorySessions()))
    ts = new_ts()
    event = {"type": "app_mention", "user": "U0ALICE", "text": f"<@{BOT_USER_ID}> who makes the Bayraktar TB2 drone?",
             "ts": ts, "channel": channel, "team": TEAM_ID}  # fmt: skip
    envelope = {"team_id": TEAM_ID, "event": event, "type": "event_callback", "event_id": "EvSOCKET1",
                "event_time": int(time.time())}  # fmt: skip

    # What Bolt's SocketModeHandler does with each envelope; Socket Mode has no signature to check.
    assert bolt.dispatch(BoltRequest(body=envelope, mode="socket_mode")).status == 200
    (reply,) = [c.args for c in standin.wait_for("chat.postMessage", channel=channel)]
    assert reply["thread_ts"] == ts and "Baykar" in message_text(reply)

    # Socket Mode redelivers unacknowledged envelopes; the event id keeps it to one answer.
    assert bolt.dispatch(BoltRequest(body=envelope, mode="socket_mode")).status == 200
    assert len(standin.find("chat.postMessage", channel=channel)) == 1


def test_qa_slack_without_app_token_says_what_to_set(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("QA_SLACK_APP_TOKEN", "QA_SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QA_SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.chdir("/")  # no .env
    result = CliRunner().invoke(cli, ["slack"])
    assert result.exit_code == 1
    assert "QA_SLACK_APP_TOKEN" in result.output
