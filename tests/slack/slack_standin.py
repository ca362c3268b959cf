"""Playing Slack in tests: a stand-in of its Web API, and a sender of signed events and commands."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
from slack_sdk.signature import SignatureVerifier

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0SEED"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass(frozen=True)
class Call:
    """One request the bot made: a Web API method (``chat.postMessage``) or ``response_url``."""

    method: str
    args: dict[str, Any]
    authorization: str | None


class SlackStandIn:
    """Serves ``/api/<method>`` and ``/response/<id>`` on loopback until ``close()``."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._changed = threading.Condition()
        self._ts = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """What QA_SLACK_API_URL points at."""
        return f"{self.base}/api/"

    def response_url(self, name: str) -> str:
        """A slash command's ``response_url``."""
        return f"{self.base}/response/{name}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def find(self, method: str, **match: Any) -> list[Call]:
        """Recorded calls of ``method`` whose arguments include ``match``."""
        with self._changed:
            return [c for c in self.calls if c.method == method and all(c.args.get(k) == v for k, v in match.items())]

    def wait_for(self, method: str, *, count: int = 1, timeout: float = 15.0, **match: Any) -> list[Call]:
        """Block until ``count`` matching calls arrived (bounded by ``timeout``); return them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [
                    c for c in self.calls if c.method == method and all(c.args.get(k) == v for k, v in match.items())
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} {method} call(s) matching {match}, got {found}")
                self._changed.wait(left)

    def _record(self, call: Call) -> dict[str, Any]:
        with self._changed:
            self.calls.append(call)
            self._ts += 1
            self._changed.notify_all()
            ts = f"{int(time.time())}.{self._ts:06d}"
        if call.method == "auth.test":
            return {
                "ok": True,
                "url": "https://seed-team.slack.com/",
                "team": "Seed Team",
                "user": "seed-qa",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if call.method in ("chat.postMessage", "chat.postEphemeral"):
            return {"ok": True, "channel": call.args.get("channel"), "ts": ts, "message_ts": ts}
        return {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = dict(parse_qsl(raw))
                path = self.path.split("?")[0]
                if path.startswith("/api/"):
                    method = path.removeprefix("/api/")
                elif path.startswith("/response/"):
                    method = "response_url"
                else:
                    self.send_error(404)
                    return
                reply = standin._record(Call(method, args, self.headers.get("Authorization")))
                body = b"ok" if method == "response_url" else json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if method == "response_url" else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        return Handler


_ts = itertools.count(1)


def new_ts() -> str:
    """A fresh Slack message timestamp."""
    return f"{int(time.time())}.{next(_ts):06d}"


@dataclass
class Slack:
    """Sends requests to the bot the way Slack does: signed JSON events and form-encoded commands."""

    url: str
    standin: SlackStandIn
    secret: str = SIGNING_SECRET

    def post(
        self,
        body: str,
        *,
        content_type: str = "application/json",
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret or self.secret).generate_signature(timestamp=ts, body=body)
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        return httpx.post(f"{self.url}/slack/events", content=body.encode(), headers=sent, timeout=10)

    def send_event(self, event: dict[str, Any], *, event_id: str | None = None, **kwargs: Any) -> httpx.Response:
        """Deliver ``event`` in an Events API envelope; the response must come back fast."""
        envelope = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A0SEEDQA",
            "event": {"team": TEAM_ID, "event_ts": event.get("ts"), **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        started = time.monotonic()
        response = self.post(json.dumps(envelope), **kwargs)
        assert time.monotonic() - started < 3, "Slack needs an acknowledgement within 3 seconds"
        return response

    def mention(
        self, text: str, *, channel: str, ts: str | None = None, thread_ts: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        event = {
            "type": "app_mention",
            "user": "U0ALICE",
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": ts or new_ts(),
            "channel": channel,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.send_event(event, **kwargs)

    def dm(self, text: str, *, channel: str, ts: str | None = None, **extra: Any) -> httpx.Response:
        event = {
            "type": "message",
            "channel_type": "im",
            "user": "U0ALICE",
            "text": text,
            "ts": ts or new_ts(),
            "channel": channel,
            **extra,
        }
        return self.send_event(event)

    def replies(self, channel: str, *, count: int = 1) -> list[dict[str, Any]]:
        """Wait (bounded) for ``count`` chat.postMessage calls in ``channel``; their arguments."""
        return [call.args for call in self.standin.wait_for("chat.postMessage", count=count, channel=channel)]

    def posted(self, channel: str) -> list[dict[str, Any]]:
        """The chat.postMessage calls in ``channel`` so far."""
        return [call.args for call in self.standin.find("chat.postMessage", channel=channel)]


def message_text(message: dict[str, Any]) -> str:
    """Everything a reader sees in a posted message: fallback text and all block text."""
    parts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text", "")
            parts.append(text["text"] if isinstance(text, dict) else text)  # a button's label is an object
    return "\n".join(parts)
