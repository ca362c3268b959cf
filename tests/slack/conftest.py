"""Fixtures: a stand-in of Slack's Web API, the real app on loopback, and signed Slack requests."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.logs import current_request_id
from qa import QAService, SessionError, Settings, Turn
from qa.collections.registry import CollectionRegistry
from qa.feedback.log import AnswerLog
from qa.schema import StreamEvent
from qa.sessions.chat import Chat
from tests.slack.slack_standin import SIGNING_SECRET, Slack, SlackStandIn
from tests.support import HASHING, copy_seeds, serving, settings_under

BOT_TOKEN = "xoxb-seed-qa-test"

# A document that tries to ping the whole channel; the bot must show it as text.
NOTICE = (
    "Office notices\n\n"
    "The quarterly fire drill is announced to <!channel> and <@U0ADMIN> by the facilities team every March & "
    "September.\nVisitors must sign in at the front desk.\n"
)


class MemorySessions:
    """The ``SessionStore`` protocol in memory."""

    def __init__(self) -> None:
        self.turns: dict[str, list[Turn]] = {}
        self._lock = threading.Lock()

    def new_id(self) -> str:
        return uuid.uuid4().hex

    def exists(self, session_id: str) -> bool:
        return session_id in self.turns

    def history(self, session_id: str) -> list[Turn]:
        with self._lock:
            if session_id not in self.turns:
                raise SessionError(f"Unknown session {session_id!r}.")
            return list(self.turns[session_id])

    def append(self, session_id: str, turn: Turn) -> None:
        with self._lock:
            self.turns.setdefault(session_id, []).append(turn)


@dataclass
class RecordingService:
    """A QAService that remembers what each ``ask`` received, and can be told to fail."""

    service: QAService
    asked: list[tuple[str, tuple[Turn, ...]]] = field(default_factory=list)
    request_ids: list[str | None] = field(default_factory=list)  # the log request id each ask ran under
    fail_on: str | None = None

    def ask_stream(
        self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = ()
    ) -> Iterator[StreamEvent]:
        self.asked.append((question, tuple(history)))
        self.request_ids.append(current_request_id())
        if self.fail_on and self.fail_on in question:
            raise RuntimeError("the disk is on fire")
        return self.service.ask_stream(question, top_k=top_k, history=history)

    def __getattr__(self, name: str) -> Any:  # settings, library, manifest... of the real service
        return getattr(self.service, name)


def slack_parts(
    service: QAService | RecordingService, settings: Settings, sessions: Any, *, log: AnswerLog | None = None
) -> dict[str, Any]:
    """What ``mount_slack``/``build_bolt_app`` take: collections whose default is ``service``, and a chat."""
    collections = CollectionRegistry(settings, service=service, watch=False)  # type: ignore[arg-type]
    return {"collections": collections, "chat": Chat.from_settings(settings, sessions, log)}


def make_settings(tmp: Path, *, api_url: str, **overrides: Any) -> Settings:
    """Fast settings with Slack on, pointed at the stand-in; documents (with ``NOTICE``), index and
    data under ``tmp``."""
    if not (tmp / "seeds").exists():
        (copy_seeds(tmp) / "office-notices.txt").write_text(NOTICE, encoding="utf-8")
    slack: dict[str, Any] = {
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_api_url": api_url,
    }
    return settings_under(tmp, **{**HASHING, **slack, **overrides})


@pytest.fixture(scope="session")
def standin() -> Iterator[SlackStandIn]:
    server = SlackStandIn()
    yield server
    server.close()


@pytest.fixture(scope="session")
def fast_settings(tmp_path_factory: pytest.TempPathFactory, standin: SlackStandIn) -> Settings:
    return make_settings(tmp_path_factory.mktemp("slack-fast"), api_url=standin.api_url)


@pytest.fixture(scope="session")
def fast_service(fast_settings: Settings) -> QAService:
    service = QAService(fast_settings)
    service.ensure_index()
    return service


@dataclass
class Bot:
    """The running app with Slack mounted, and what it used."""

    slack: Slack
    service: RecordingService
    sessions: MemorySessions


@pytest.fixture(scope="module")
def bot(fast_service: QAService, fast_settings: Settings, standin: SlackStandIn) -> Iterator[Bot]:
    """A minimal FastAPI app with only ``mount_slack``, served by uvicorn on loopback."""
    from api.slack.app import mount_slack

    service, sessions = RecordingService(fast_service, fail_on="EXPLODE"), MemorySessions()
    app = FastAPI()
    mount_slack(app, settings=fast_settings, **slack_parts(service, fast_settings, sessions))
    with serving(app) as url:
        yield Bot(Slack(url, standin), service, sessions)


@pytest.fixture
def channel() -> str:
    """A channel id no other test uses, so stand-in calls can be told apart."""
    return f"C{uuid.uuid4().hex[:8].upper()}"
