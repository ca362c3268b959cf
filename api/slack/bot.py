"""The Slack listeners: a message becomes a question, its answer a reply in the thread.

A thread is one chat session (``session_key``), held through ``qa.sessions.chat.Chat``: an unknown
or expired thread starts over. Each channel answers from its collection (``QA_SLACK_CHANNELS``,
others ``QA_SLACK_COLLECTION``). Every answer carries thumbs up/down buttons whose votes go to
the answer log as feedback (``source="slack"``). Slack delivers an event again when it thinks the first
delivery failed; a redelivery never gives a second answer (``SlackBot.skip_redeliveries``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.context.ack import Ack
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from api.logs import bound_request_id
from api.slack.formatting import (
    ERROR_MESSAGE,
    FEEDBACK_UP,
    HELP_MESSAGE,
    NOT_READY_MESSAGE,
    answer_message,
    notice_message,
    question_from_slack,
)
from qa.errors import IndexNotReadyError, QAError
from qa.feedback.log import Vote
from qa.sessions.chat import Chat

if TYPE_CHECKING:
    from qa.collections.registry import Collection, CollectionRegistry

logger = logging.getLogger(__name__)

# Retry reasons after which Slack's first delivery cannot have reached a listener; any other
# retry (notably "http_timeout") may race an answer already being written, so it is only acked.
_UNDELIVERED_RETRY_REASONS = frozenset({"connection_failed", "http_error"})


#: Who Slack's chats belong to in the answer log (a Slack thread is not any API key's session).
SLACK_OWNER = "slack"


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

    def __init__(
        self,
        collections: CollectionRegistry,
        chat: Chat,
        *,
        channels: dict[str, str] | None = None,
        default_collection: str = "default",
    ) -> None:
        self.collections = collections
        self.chat = chat
        self.channels = dict(channels or {})
        self.default_collection = default_collection
        self.seen_events = RecentIds()

    def collection_for(self, channel: str | None) -> Collection:
        """The collection a channel answers from (the mapping, else the default)."""
        return self.collections.get(self.channels.get(channel or "", self.default_collection))

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
            question = question_from_slack(command.get("text") or "")
            message = self.reply_to(question, session_id=None, channel=command.get("channel_id"))
        respond(response_type="ephemeral", replace_original=False, unfurl_links=False, unfurl_media=False, **message)

    def on_feedback(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A thumbs up/down button under an answer: recorded as feedback on that answer."""
        ack()
        vote: Vote = "up" if action.get("action_id") == FEEDBACK_UP else "down"
        user = str((body.get("user") or {}).get("id") or "unknown")
        log = self.chat.log
        if log is None:
            return
        try:
            log.add_feedback(str(action.get("value") or ""), owner=f"slack:{user}", vote=vote, source="slack")
        except QAError as error:
            logger.warning("Slack feedback not recorded: %s", error.message)

    def reply_to(self, question: str, *, session_id: str | None, channel: str | None = None) -> dict[str, Any]:
        """The Slack message answering ``question`` in session ``session_id``; never raises."""
        if not question:
            return notice_message(HELP_MESSAGE)
        try:
            collection = self.collection_for(channel)
            conversation = (
                self.chat.open(session_id, owner=SLACK_OWNER, collection=collection.name, missing="new")
                if session_id
                else None
            )
            answer = self.chat.ask(
                collection.service, question, conversation, owner=SLACK_OWNER, collection=collection.name
            )
        except IndexNotReadyError as error:
            logger.warning("Slack question not answered: %s", error.message)
            return notice_message(NOT_READY_MESSAGE)
        except QAError as error:
            logger.warning("Slack question not answered: %s", error.message)
            return notice_message(error.message if error.status_code < 500 else ERROR_MESSAGE)
        except Exception:
            logger.exception("Answering a Slack question failed.")
            return notice_message(ERROR_MESSAGE)
        return answer_message(answer, feedback=self.chat.log is not None)

    def _reply_in_thread(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        channel = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]
        team = context.team_id or event.get("team") or "-"
        question = question_from_slack(event.get("text") or "", bot_user_id=context.bot_user_id)
        message = self.reply_to(question, session_id=session_key(team, channel, thread_ts), channel=channel)
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
