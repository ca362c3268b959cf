"""The Slack bot over HTTP: signed events in, threaded replies out through a stand-in of Slack's Web API."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from api.slack.formatting import ERROR_MESSAGE, HELP_MESSAGE
from qa.schema import Turn
from tests.slack.conftest import Bot
from tests.slack.slack_standin import BOT_ID, BOT_USER_ID, TEAM_ID, message_text, new_ts

BAYKAR_SENTENCE = "executives from the privately-owned Baykar company, which manufactures the Bayraktar TB2 drone"


def test_mention_gets_one_threaded_reply_with_cited_source(bot: Bot, channel: str) -> None:
    ts = new_ts()
    response = bot.slack.mention("who makes the Bayraktar TB2 drone?", channel=channel, ts=ts)
    assert response.status_code == 200

    (reply,) = bot.slack.replies(channel)
    assert reply["thread_ts"] == ts
    assert reply["unfurl_links"] is False and reply["unfurl_media"] is False
    text = message_text(reply)
    assert "*Baykar*" in reply["blocks"][0]["text"]["text"]
    assert "*[1]* *Zelensky Istanbul Turkish Drones*" in text and BAYKAR_SENTENCE in text
    assert bot.service.asked[-1] == ("who makes the Bayraktar TB2 drone?", ())  # the mention is stripped
    calls = bot.slack.standin.find("chat.postMessage", channel=channel)
    assert calls[0].authorization == "Bearer xoxb-seed-qa-test"


def test_follow_up_in_the_thread_uses_the_thread_as_history(bot: Bot, channel: str) -> None:
    first = new_ts()
    bot.slack.mention("who makes the Bayraktar TB2 drone?", channel=channel, ts=first)
    bot.slack.replies(channel)
    bot.slack.mention("where did they open a factory?", channel=channel, thread_ts=first)

    second = bot.slack.replies(channel, count=2)[1]
    assert second["thread_ts"] == first
    assert bot.service.asked[-1] == (
        "where did they open a factory?",
        (Turn(question="who makes the Bayraktar TB2 drone?", answer="Baykar"),),
    )
    key = f"slack:{TEAM_ID}:{channel}:{first}"
    assert [t.question for t in bot.sessions.history(key)] == [
        "who makes the Bayraktar TB2 drone?",
        "where did they open a factory?",
    ]


def test_a_new_thread_starts_without_history(bot: Bot, channel: str) -> None:
    bot.slack.mention("who makes the Bayraktar TB2 drone?", channel=channel)
    bot.slack.replies(channel)
    bot.slack.mention("where did they open a factory?", channel=channel)
    bot.slack.replies(channel, count=2)
    assert bot.service.asked[-1] == ("where did they open a factory?", ())


def test_direct_message_is_answered_in_its_thread(bot: Bot) -> None:
    channel, ts = "D0DIRECT1", new_ts()
    bot.slack.dm("who makes the Bayraktar TB2 drone?", channel=channel, ts=ts)
    (reply,) = bot.slack.replies(channel)
    assert reply["thread_ts"] == ts and "Baykar" in message_text(reply)


def test_uncovered_question_says_so_and_cites_nothing(bot: Bot, channel: str) -> None:
    bot.slack.mention("what is the boiling point of mercury?", channel=channel)
    (reply,) = bot.slack.replies(channel)
    assert "don't cover" in reply["text"] and "[1]" not in message_text(reply)


def test_an_abstention_lists_the_closest_passages(bot: Bot, channel: str) -> None:
    bot.slack.mention("How much does the TB2 cost?", channel=channel)
    (reply,) = bot.slack.replies(channel)
    assert reply["text"].startswith("Not stated directly. Closest passages: [1] Zelensky Istanbul Turkish Drones")
    text = message_text(reply)
    assert "*[1]* *Zelensky Istanbul Turkish Drones*  ·  `zelensky-istanbul-turkish-drones.txt`" in text
    assert BAYKAR_SENTENCE in text and "Sources" not in text


def test_document_markup_is_escaped_so_nobody_is_pinged(bot: Bot, channel: str) -> None:
    bot.slack.mention("When is the quarterly fire drill announced?", channel=channel)
    (reply,) = bot.slack.replies(channel)
    text = message_text(reply)
    assert "&lt;!channel&gt;" in text and "&lt;@U0ADMIN&gt;" in text and "March &amp; September" in text
    assert "<!channel>" not in text and "<@U0ADMIN>" not in text


def test_failure_while_answering_gives_a_polite_reply_in_the_thread(bot: Bot, channel: str) -> None:
    ts = new_ts()
    bot.slack.mention("EXPLODE please", channel=channel, ts=ts)
    (reply,) = bot.slack.replies(channel)
    assert reply["thread_ts"] == ts and reply["text"] == ERROR_MESSAGE
    assert "disk" not in json.dumps(reply)  # internals stay in the log


def test_bare_mention_gets_help(bot: Bot, channel: str) -> None:
    bot.slack.send_event({"type": "app_mention", "user": "U0ALICE", "text": f"<@{BOT_USER_ID}>", "ts": new_ts(),
                          "channel": channel})  # fmt: skip
    (reply,) = bot.slack.replies(channel)
    assert reply["text"] == HELP_MESSAGE


def test_forged_signature_is_rejected_and_nothing_posted(bot: Bot, channel: str) -> None:
    response = bot.slack.mention("who makes the Bayraktar TB2 drone?", channel=channel, secret="not-the-secret")
    assert response.status_code == 401
    assert bot.slack.posted(channel) == []


def test_stale_timestamp_is_rejected_and_nothing_posted(bot: Bot, channel: str) -> None:
    response = bot.slack.mention(
        "who makes the Bayraktar TB2 drone?", channel=channel, timestamp=int(time.time()) - 6 * 60
    )
    assert response.status_code == 401
    assert bot.slack.posted(channel) == []


def test_retried_event_is_acked_without_a_second_answer(bot: Bot, channel: str) -> None:
    ts = new_ts()
    bot.slack.mention("who makes the Bayraktar TB2 drone?", channel=channel, ts=ts, event_id="EvRETRY1")
    bot.slack.replies(channel)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    response = bot.slack.mention("who makes the Bayraktar TB2 drone?", channel=channel, ts=ts, event_id="EvRETRY1",
                                 headers=retry)  # fmt: skip
    assert response.status_code == 200
    # Same event without the retry header (a duplicate delivery) is also dropped.
    assert bot.slack.mention("who makes the Bayraktar TB2 drone?", channel=channel, ts=ts,
                             event_id="EvRETRY1").status_code == 200  # fmt: skip
    assert_no_more_posts(bot, channel, expected=1)


def test_retry_of_a_delivery_that_never_arrived_is_answered(bot: Bot, channel: str) -> None:
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "connection_failed"}
    bot.slack.mention("who makes the Bayraktar TB2 drone?", channel=channel, headers=retry)
    (reply,) = bot.slack.replies(channel)
    assert "Baykar" in message_text(reply)


def test_bot_messages_and_edits_are_ignored(bot: Bot) -> None:
    channel, question = "D0DIRECT2", "IGNORE who makes the Bayraktar TB2 drone?"
    own = {"bot_id": BOT_ID, "user": BOT_USER_ID}
    assert bot.slack.dm(question, channel=channel, **own).status_code == 200
    other_bot = {"bot_id": "B0OTHER", "user": "U0RSSBOT"}
    assert bot.slack.dm(question, channel=channel, **other_bot).status_code == 200
    bot_message = {"subtype": "bot_message", "bot_id": "B0OTHER", "username": "rss"}
    assert bot.slack.dm(question, channel=channel, **bot_message).status_code == 200
    edit = {"subtype": "message_changed", "message": {"text": question, "user": "U0ALICE"}}
    assert bot.slack.dm(question, channel=channel, **edit).status_code == 200
    assert_no_more_posts(bot, channel, expected=0)


def test_mentions_by_bots_and_edited_mentions_are_ignored(bot: Bot, channel: str) -> None:
    question = "IGNORE who makes the Bayraktar TB2 drone?"
    by_bot = {"type": "app_mention", "bot_id": "B0OTHER", "text": f"<@{BOT_USER_ID}> {question}", "ts": new_ts()}
    assert bot.slack.send_event({**by_bot, "channel": channel}).status_code == 200
    edited = {"type": "app_mention", "user": "U0ALICE", "text": f"<@{BOT_USER_ID}> {question}", "ts": new_ts(),
              "edited": {"user": "U0ALICE", "ts": new_ts()}}  # fmt: skip
    assert bot.slack.send_event({**edited, "channel": channel}).status_code == 200
    assert_no_more_posts(bot, channel, expected=0)


def test_ask_command_replies_ephemerally(bot: Bot, channel: str) -> None:
    standin = bot.slack.standin
    form = {
        "token": "legacy",
        "team_id": TEAM_ID,
        "channel_id": channel,
        "user_id": "U0ALICE",
        "command": "/ask",
        "text": "who makes the Bayraktar TB2 drone?",
        "response_url": standin.response_url(channel),
        "trigger_id": "1.2.3",
    }
    started = time.monotonic()
    response = bot.slack.post(urlencode(form), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and time.monotonic() - started < 3
    (call,) = standin.wait_for("response_url")
    assert call.args["response_type"] == "ephemeral" and "Baykar" in message_text(call.args)
    assert bot.slack.posted(channel) == []


def assert_no_more_posts(bot: Bot, channel: str, *, expected: int) -> None:
    """Prove nothing else is coming: a later question in the channel is answered, and only it adds a post.

    Bolt runs listeners in FIFO worker threads, so once the later question is answered the earlier
    events have been through their listeners; none of them may have reached ``ask`` (questions
    sent to be ignored start with IGNORE).
    """
    ts = new_ts()
    if channel.startswith("D"):
        bot.slack.dm("who makes the Bayraktar TB2 drone?", channel=channel, ts=ts)
    else:
        bot.slack.mention("who makes the Bayraktar TB2 drone?", channel=channel, ts=ts)
    bot.slack.standin.wait_for("chat.postMessage", channel=channel, thread_ts=ts)
    assert not [question for question, _ in bot.service.asked if question.startswith("IGNORE")]
    assert len(bot.slack.posted(channel)) == expected + 1, bot.slack.posted(channel)


def test_each_question_logs_under_its_slack_event_id(bot: Bot, channel: str) -> None:
    bot.slack.mention("who makes the Bayraktar TB2 drone?", channel=channel, event_id="Ev0TRACE42")
    bot.slack.replies(channel)
    assert bot.service.request_ids[-1] == "slack-Ev0TRACE42"
