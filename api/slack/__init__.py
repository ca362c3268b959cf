"""Slack front end: @mentions, DMs and ``/ask`` answered in threads, with numbered cited sources.

One Bolt ``App`` serves both transports:

- HTTP: ``mount_slack`` adds ``POST /slack/events`` (Events API and slash commands) to the FastAPI app.
  Bolt checks the signature and timestamp (401 otherwise), acknowledges at once, and answers in its
  worker threads, so Slack's 3-second deadline never waits on the model.
- Socket Mode: ``run_socket_mode`` (``qa slack``) for workspaces that cannot reach a public URL.

Slack delivers an event again when it thinks the first delivery failed; a redelivery never gives a
second answer (see ``SlackBot.skip_redeliveries``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.context.ack import Ack
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api.errors import error_response
from api.logs import bound_request_id
from api.slack.formatting import (
    ERROR_MESSAGE,
    HELP_MESSAGE,
    NOT_READY_MESSAGE,
    answer_message,
    notice_message,
    question_from_slack,
)
from qa.config import Settings
from qa.errors import ConfigurationError, IndexNotReadyError, QAError, SessionError
from qa.schema import Turn
from qa.sessions import SessionStore, build_session_store

if TYPE_CHECKING:
    from fastapi import FastAPI

    from qa.service import QAService

logger = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"

# Retry reasons after which Slack's first delivery cannot have reached a listener; any other
# retry (notably "http_timeout") may race an answer already being written, so it is only acked.
_UNDELIVERED_RETRY_REASONS = frozenset({"connection_failed", "http_error"})


def session_key(team: str, channel: str, thread_ts: str) -> str:
    """The chat session of one Slack thread."""
    return f"slack:{team}:{channel}:{thread_ts}"


class RecentIds:
    """Thread-safe, bounded memory of event ids seen in the last ``ttl_s`` seconds."""

    def __init__(self, *, ttl_s: float = 3600.0, max_size: int = 10_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._ttl_s = ttl_s
        self._max_size = max_size

    def first_time(self, key: str) -> bool:
        """Record ``key``; True unless it was already recorded (and not yet forgotten)."""
        now = time.monotonic()
        with self._lock:
            while self._seen and (
                len(self._seen) >= self._max_size or next(iter(self._seen.values())) < now - self._ttl_s
            ):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


class SlackBot:
    """The listeners: turn a Slack message into a question, answer it, post the reply in its thread."""

    def __init__(self, service: QAService, sessions: SessionStore) -> None:
        self.service = service
        self.sessions = sessions
        self.seen_events = RecentIds()

    def skip_redeliveries(
        self, request: BoltRequest, body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """Acknowledge, without answering, an event already handled or a retry that may race one."""
        retry = request.headers.get("x-slack-retry-num", [None])[0]
        reason = request.headers.get("x-slack-retry-reason", [None])[0]
        event_id = body.get("event_id")
        if retry is not None and reason not in _UNDELIVERED_RETRY_REASONS:
            logger.info("Acknowledged Slack retry %s of event %s (%s) without answering.", retry, event_id, reason)
            if event_id:
                self.seen_events.first_time(event_id)
            return BoltResponse(status=200, body="")
        if event_id and not self.seen_events.first_time(event_id):
            logger.info("Acknowledged duplicate Slack event %s without answering.", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    def on_mention(self, event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """``@seed-qa question`` in a channel or thread."""
        if str(event.get("channel", "")).startswith("D"):
            return  # a mention in a DM also arrives as a message.im event, answered there
        if _from_bot_or_edit(event):
            return
        with bound_request_id(_slack_request_id(body.get("event_id"))):
            self._reply_in_thread(event, context, client)

    def on_message(self, event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """A direct message to the bot; other message events (edits, joins, bots) are ignored."""
        if event.get("channel_type") != "im" or event.get("subtype") or _from_bot_or_edit(event):
            return
        with bound_request_id(_slack_request_id(body.get("event_id"))):
            self._reply_in_thread(event, context, client)

    def on_ask(self, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        """``/ask question``: a one-off answer only the asker sees."""
        ack()
        with bound_request_id(_slack_request_id(command.get("trigger_id"))):
            message = self.reply_to(question_from_slack(command.get("text") or ""), session_id=None)
        respond(response_type="ephemeral", replace_original=False, unfurl_links=False, unfurl_media=False, **message)

    def reply_to(self, question: str, *, session_id: str | None) -> dict[str, Any]:
        """The Slack message answering ``question`` in session ``session_id``; never raises."""
        if not question:
            return notice_message(HELP_MESSAGE)
        try:
            history = self._history(session_id) if session_id else []
            answer = self.service.ask(question, history=history)
        except IndexNotReadyError as error:
            logger.warning("Slack question not answered: %s", error.message)
            return notice_message(NOT_READY_MESSAGE)
        except QAError as error:
            logger.warning("Slack question not answered: %s", error.message)
            return notice_message(error.message if error.status_code < 500 else ERROR_MESSAGE)
        except Exception:
            logger.exception("Answering a Slack question failed.")
            return notice_message(ERROR_MESSAGE)
        if session_id:
            try:
                self.sessions.append(session_id, Turn(question=question, answer=answer.answer))
            except Exception:  # the answer is still worth posting without its history
                logger.exception("Could not save Slack thread history for %s.", session_id)
        return answer_message(answer)

    def _history(self, session_id: str) -> list[Turn]:
        if not self.sessions.exists(session_id):
            return []
        try:
            return self.sessions.history(session_id)
        except SessionError:  # expired between the two calls
            return []

    def _reply_in_thread(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        channel = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]
        team = context.team_id or event.get("team") or "-"
        question = question_from_slack(event.get("text") or "", bot_user_id=context.bot_user_id)
        message = self.reply_to(question, session_id=session_key(team, channel, thread_ts))
        try:
            client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **message
            )
        except Exception:
            logger.exception("Could not post the answer to Slack channel %s.", channel)


def _slack_request_id(slack_id: Any) -> str:
    """``slack-<event or trigger id>`` for the log lines of one Slack question (a fresh id if absent)."""
    text = str(slack_id or "")
    return (
        f"slack-{text}"
        if text and len(text) <= 100 and text.replace(".", "").isalnum()
        else f"slack-{uuid.uuid4().hex}"
    )


def _from_bot_or_edit(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") in ("bot_message", "message_changed") or "edited" in event


def build_bolt_app(*, service: QAService, settings: Settings, sessions: SessionStore, socket_mode: bool = False) -> App:
    """The Bolt app; it talks to ``settings.slack_api_url`` and never calls Slack at start-up."""
    token = _secret(settings.slack_bot_token, "QA_SLACK_BOT_TOKEN")
    signing_secret = "" if socket_mode else _secret(settings.slack_signing_secret, "QA_SLACK_SIGNING_SECRET")
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    bot = SlackBot(service, sessions)
    app = App(
        name="seed-qa",
        signing_secret=signing_secret,
        client=slack_client(token, base_url=base_url, timeout_s=settings.slack_timeout_s),
        token_verification_enabled=False,  # auth.test runs on the first event instead of at start-up
        process_before_response=False,  # ack first; listeners run in Bolt's worker threads
    )
    app.use(bot.skip_redeliveries)
    app.event("app_mention")(bot.on_mention)
    app.event("message")(bot.on_message)
    app.command("/ask")(bot.on_ask)
    return app


def slack_client(token: str, *, base_url: str, timeout_s: float) -> WebClient:
    """A Web API client with bounded waits and retries that can never post an answer twice.

    Retried: connection failures (nothing reached Slack; one retry) and 429 rate limiting (Slack
    did nothing; one retry after its Retry-After). Not retried: a timeout or a 5xx, after which
    Slack may have posted the message already; the error is logged and the thread gets nothing more.
    """
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout_s,  # type: ignore[arg-type]  # urllib takes float seconds
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1), RateLimitErrorRetryHandler(max_retry_count=1)],
    )


def mount_slack(app: FastAPI, *, service: QAService, settings: Settings, sessions: SessionStore) -> App:
    """Serve Slack's Events API and slash commands at ``POST /slack/events``."""
    bolt = build_bolt_app(service=service, settings=settings, sessions=sessions)

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        # dispatch() verifies, acks and hands listeners to threads; it may call auth.test once, so not on the loop.
        response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        if response.status >= 500:  # Bolt could not reach Slack's Web API (auth.test) to handle the event
            logger.error("Slack event not handled: Slack's Web API (QA_SLACK_API_URL) failed; Slack will retry.")
            message = "Slack's Web API could not be reached from this server; the event will be retried."
            return error_response(503, "slack_unavailable", message, headers={"Retry-After": "30"})
        return to_starlette_response(response)

    app.add_api_route(SLACK_EVENTS_PATH, slack_events, methods=["POST"], include_in_schema=False)
    app.state.slack = bolt
    return bolt


def run_socket_mode(
    settings: Settings, *, service: QAService | None = None, sessions: SessionStore | None = None
) -> None:
    """Connect to Slack over Socket Mode and answer until interrupted (``qa slack``)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from qa.service import QAService

    app_token = _secret(settings.slack_app_token, "QA_SLACK_APP_TOKEN")
    _secret(settings.slack_bot_token, "QA_SLACK_BOT_TOKEN")  # fail before loading any model
    if service is None:
        service = QAService(settings)
        service.ensure_index(show_progress=True)
    if sessions is None:
        sessions = build_session_store(settings)
    bolt = build_bolt_app(service=service, settings=settings, sessions=sessions, socket_mode=True)
    handler = SocketModeHandler(bolt, app_token)
    logger.info("Connecting to Slack over Socket Mode; Ctrl-C stops.")
    try:
        handler.start()  # type: ignore[no-untyped-call]
    except KeyboardInterrupt:
        handler.close()  # type: ignore[no-untyped-call]


def _secret(value: SecretStr | None, env: str) -> str:
    if value is None or not value.get_secret_value():
        raise ConfigurationError(f"Slack is not configured: set {env} (see docs/SLACK.md).")
    return value.get_secret_value()
