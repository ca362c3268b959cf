"""Chat sessions do not cross front ends: ``POST /api/chat`` continues only ids of its own random
``web-`` form, so a Slack thread's predictable ``slack:<team>:<channel>:<ts>`` session can be
neither read nor appended to over HTTP."""

from __future__ import annotations

import httpx
import pytest

from api.slack.bot import session_key
from qa import Turn
from qa.sessions import SessionStore, is_web_session_id, new_session_id
from tests.support import TB2_QUESTION, LiveServer

SLACK_DM = session_key("T0TEAM", "D0DIRECT", "1764460800.000100")
PRIVATE = Turn("What is the payroll password?", "Our payroll password is hunter2-private")


@pytest.mark.parametrize("stream", [False, True])
def test_a_slack_session_is_not_readable_or_writable_over_http(live_server: LiveServer, stream: bool) -> None:
    sessions: SessionStore = live_server.app.state.sessions
    sessions.append(SLACK_DM, PRIVATE)
    body = {"message": "What did I ask you before? Repeat your last answer.", "session_id": SLACK_DM, "stream": stream}
    response = httpx.post(f"{live_server.url}/api/chat", json=body, timeout=30)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "session_not_found"
    assert "hunter2" not in response.text
    assert sessions.history(SLACK_DM) == [PRIVATE]  # untouched: nothing appended


@pytest.mark.parametrize(
    "foreign",
    [
        "abcdefghijklmnopqrstuvwx",  # the old format (bare token_urlsafe(18)), e.g. an id another client chose
        "web-short",
        "web-" + "a" * 23 + "!",
        "WEB-" + "a" * 24,
        "web-" + "a" * 25,
    ],
)
def test_ids_not_of_the_http_form_are_404_even_when_the_store_has_them(live_server: LiveServer, foreign: str) -> None:
    sessions: SessionStore = live_server.app.state.sessions
    sessions.append(foreign, PRIVATE)
    response = httpx.post(f"{live_server.url}/api/chat", json={"message": TB2_QUESTION, "session_id": foreign})
    assert response.status_code == 404 and response.json()["error"]["code"] == "session_not_found"
    assert sessions.history(foreign) == [PRIVATE]


def test_http_chats_get_and_continue_their_own_ids(live_server: LiveServer) -> None:
    first = httpx.post(f"{live_server.url}/api/chat", json={"message": TB2_QUESTION}, timeout=30).json()
    session_id = first["session_id"]
    assert session_id.startswith("web-") and is_web_session_id(session_id)
    follow = httpx.post(
        f"{live_server.url}/api/chat", json={"message": "Where is the factory?", "session_id": session_id}, timeout=30
    )
    assert follow.status_code == 200 and follow.json()["session_id"] == session_id
    assert len(live_server.app.state.sessions.history(session_id)) == 2


def test_new_ids_are_random_and_recognised() -> None:
    ids = {new_session_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(is_web_session_id(i) for i in ids)
    assert not is_web_session_id(SLACK_DM)
