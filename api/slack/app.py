"""The Bolt app over ``SlackBot``: mounted on the FastAPI app (HTTP) or run over Socket Mode (``qa slack``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api.errors import error_response
from api.slack.bot import SlackBot
from api.slack.formatting import FEEDBACK_DOWN, FEEDBACK_UP
from qa.collections.registry import CollectionRegistry
from qa.config import Settings
from qa.errors import ConfigurationError
from qa.feedback.log import AnswerLog
from qa.sessions import build_session_store
from qa.sessions.chat import Chat

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"


def build_bolt_app(
    *, collections: CollectionRegistry, settings: Settings, chat: Chat, socket_mode: bool = False
) -> App:
    """The Bolt app; it talks to ``settings.slack_api_url`` and never calls Slack at start-up."""
    token = _secret(settings.slack_bot_token, "QA_SLACK_BOT_TOKEN")
    signing_secret = "" if socket_mode else _secret(settings.slack_signing_secret, "QA_SLACK_SIGNING_SECRET")
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    bot = SlackBot(collections, chat, channels=settings.slack_channels, default_collection=settings.slack_collection)
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
    app.action(FEEDBACK_UP)(bot.on_feedback)
    app.action(FEEDBACK_DOWN)(bot.on_feedback)
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


def mount_slack(app: FastAPI, *, collections: CollectionRegistry, settings: Settings, chat: Chat) -> App:
    """Serve Slack's Events API, slash commands and button clicks at ``POST /slack/events``."""
    bolt = build_bolt_app(collections=collections, settings=settings, chat=chat)

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
    settings: Settings, *, collections: CollectionRegistry | None = None, chat: Chat | None = None
) -> None:
    """Connect to Slack over Socket Mode and answer until interrupted (``qa slack``).

    Every collection's index is loaded (or built) and kept current as the HTTP server does:
    uploads, deletes and (QA_WATCH) edits to the folders are re-ingested in the background.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app_token = _secret(settings.slack_app_token, "QA_SLACK_APP_TOKEN")
    _secret(settings.slack_bot_token, "QA_SLACK_BOT_TOKEN")  # fail before loading any model
    if collections is None:
        collections = CollectionRegistry(settings)
        collections.default.service.ensure_index(show_progress=True)
    if chat is None:
        chat = Chat.from_settings(settings, build_session_store(settings), AnswerLog(settings.answers_path))
    bolt = build_bolt_app(collections=collections, settings=settings, chat=chat, socket_mode=True)
    handler = SocketModeHandler(bolt, app_token)
    collections.start()
    logger.info("Connecting to Slack over Socket Mode; Ctrl-C stops.")
    try:
        handler.start()  # type: ignore[no-untyped-call]
    except KeyboardInterrupt:
        handler.close()  # type: ignore[no-untyped-call]
    finally:
        collections.stop()


def _secret(value: SecretStr | None, env: str) -> str:
    if value is None or not value.get_secret_value():
        raise ConfigurationError(f"Slack is not configured: set {env} (see docs/SLACK.md).")
    return value.get_secret_value()
