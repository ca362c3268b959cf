"""Slack channels mapped to collections (QA_SLACK_CHANNELS) on the real app, and feedback buttons
whose votes reach the answer log and the exported test set."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from api import create_app
from api.slack.formatting import FEEDBACK_DOWN, FEEDBACK_UP
from qa import HashingEmbedder, QAService
from qa.cli import app as cli
from qa.collections.registry import CollectionRegistry
from qa.feedback.export import export_cases
from tests.slack.conftest import make_settings
from tests.slack.slack_standin import TEAM_ID, Slack, SlackStandIn, message_text, new_ts
from tests.support import serving, settings_env

HR_DOC = "Leave policy\n\nEvery employee gets 27 days of paid annual leave each year.\n"
ENG_DOC = "Deploy guide\n\nThe on-call engineer for deploys this quarter is Ravi Osei.\n"


@pytest.fixture
def slack(tmp_path: Path, standin: SlackStandIn) -> Iterator[tuple[Slack, FastAPI]]:
    settings = make_settings(
        tmp_path, api_url=standin.api_url, slack_channels={"CHRTEAM": "hr", "CENGTEAM": "eng"}, abstain_threshold=0.3
    )
    registry = CollectionRegistry(settings, watch=False)
    for name, doc in (("hr", HR_DOC), ("eng", ENG_DOC)):
        (registry.create(name).library.hand_dir / f"{name}.txt").write_text(doc, "utf-8")
    service = QAService(settings, embedder=HashingEmbedder())
    service.ensure_index()
    app = create_app(service=service)
    with serving(app) as url:
        for name in ("hr", "eng"):
            assert app.state.collections.get(name).loader.wait(30)
        yield Slack(url, standin), app


def test_each_channel_answers_from_its_collection_and_buttons_record_feedback(
    slack: tuple[Slack, FastAPI],
) -> None:
    bot, app = slack
    bot.mention("how many days of paid annual leave does an employee get?", channel="CHRTEAM", ts=new_ts())
    bot.mention("who is the on-call engineer for deploys?", channel="CENGTEAM", ts=new_ts())
    bot.mention("how many days of paid annual leave does an employee get?", channel="CDEFAULT", ts=new_ts())
    (hr,) = bot.replies("CHRTEAM")
    (eng,) = bot.replies("CENGTEAM")
    (default,) = bot.replies("CDEFAULT")
    assert "27" in message_text(hr) and "`hr.txt`" in message_text(hr)
    assert "Ravi Osei" in message_text(eng) and "hr.txt" not in message_text(eng)
    assert "hr.txt" not in message_text(default)  # unmapped channels answer from QA_SLACK_COLLECTION (default)

    buttons = hr["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == [FEEDBACK_UP, FEEDBACK_DOWN]
    answer_id = buttons[0]["value"]
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": "U0ALICE"},
        "api_app_id": "A0SEEDQA",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "channel": {"id": "CHRTEAM"},
        "container": {"type": "message", "channel_id": "CHRTEAM"},
        "actions": [
            {
                "type": "button",
                "action_id": FEEDBACK_UP,
                "block_id": "qa_feedback",
                "value": answer_id,
                "action_ts": str(time.time()),
            }
        ],
    }
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    assert bot.post(body, content_type="application/x-www-form-urlencoded").status_code == 200

    log = app.state.answer_log
    deadline = time.monotonic() + 10
    while not log.feedback(collection="hr"):
        assert time.monotonic() < deadline, "the button's vote never reached the answer log"
        time.sleep(0.05)
    ((feedback, answer),) = log.feedback(collection="hr")
    assert feedback.vote == "up" and feedback.source == "slack" and answer.id == answer_id
    report = export_cases(log, {"hr.txt": answer.file_hashes["hr.txt"]}, collection="hr")
    assert [case.answers for case in report.cases] == [("27",)]

    # The Slack vote becomes a test set that `qa eval` runs against the hr collection.
    settings = app.state.settings
    out = settings.data_dir.parent / "slack-feedback.jsonl"
    runner, env = CliRunner(), settings_env(settings)
    assert runner.invoke(cli, ["feedback", "export", str(out), "--collection", "hr"], env=env).exit_code == 0
    ran = runner.invoke(cli, ["eval", str(out), "--collection", "hr", "--min", "exact_match=1"], env=env)
    assert ran.exit_code == 0, ran.output
