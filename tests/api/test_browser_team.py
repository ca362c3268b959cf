"""The team features of the page in real headless Chromium: a reload restores the chat, past
chats are listed, votes reach the answer log, and the collection selector picks the documents."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from api import create_app
from qa.feedback.export import export_cases
from tests.api.test_browser import CHROMIUM, ask
from tests.api.test_browser import browser as browser  # the module-scoped Chromium fixture
from tests.support import LiveServer, fast_service, fast_settings

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]

HR_DOC = "Leave policy\n\nEvery employee gets 27 days of paid annual leave each year.\n"


@pytest.fixture
def server(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> LiveServer:
    settings = fast_settings(tmp_path)
    app = create_app(service=fast_service(settings))
    hr = app.state.collections.create("hr")
    (hr.library.hand_dir / "leave-policy.txt").write_text(HR_DOC, "utf-8")
    hr.service.ingest()
    return serve(app)


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(server.url + "/")
    yield page
    context.close()
    assert problems == []


def test_a_reload_restores_the_chat_and_votes_are_kept(page: Any, server: LiveServer) -> None:
    first = ask(page, "Who makes the TB2?")
    assert "Baykar" in first.locator(".answer").inner_text()
    ask(page, "What is the capital of France?")  # abstains

    page.reload()
    page.locator("#log .bot").nth(1).wait_for(timeout=15_000)
    assert page.locator("#log .user").all_inner_texts() == ["Who makes the TB2?", "What is the capital of France?"]
    restored = page.locator("#log .bot").first
    assert "Baykar" in restored.locator(".answer").inner_text()

    restored.get_by_role("button", name="Helpful", exact=True).click()
    restored.get_by_text("Thanks, noted.").wait_for(timeout=10_000)
    abstained = page.locator("#log .bot").nth(1)
    abstained.get_by_role("button", name="Not helpful").click()
    abstained.get_by_label("Corrected answer").fill("Paris")
    abstained.get_by_role("button", name="Send").click()
    abstained.get_by_text("Thanks, noted.").wait_for(timeout=10_000)
    votes = {(a.question, f.vote, f.correction, f.source) for f, a in server.app.state.answer_log.feedback()}
    assert votes == {
        ("Who makes the TB2?", "up", None, "page"),
        ("What is the capital of France?", "down", "Paris", "page"),
    }
    # Both votes become test cases: the up-voted answer with its evidence, the correction as gold.
    log, library = server.app.state.answer_log, server.app.state.collections.default.library
    cases = export_cases(log, library.hashes(), collection="default").cases
    assert {(c.question, c.answers, bool(c.evidence)) for c in cases} == {
        ("Who makes the TB2?", ("Baykar",), True),
        ("What is the capital of France?", ("Paris",), False),
    }

    page.click("#new-chat")
    page.click("#chats-open")
    page.locator("#chat-list button").first.wait_for(timeout=10_000)
    assert page.locator("#chat-list button").all_inner_texts() == ["Who makes the TB2?"]
    page.locator("#chat-list button").first.click()
    page.locator("#log .bot").nth(1).wait_for(timeout=10_000)
    assert page.locator("#log .user").count() == 2


def test_the_selector_asks_the_chosen_collection(page: Any) -> None:
    page.locator("#collection option[value=hr]").wait_for(state="attached", timeout=10_000)
    page.select_option("#collection", "hr")
    answer = ask(page, "How many days of paid annual leave does an employee get?")
    assert "27" in answer.locator(".answer").inner_text()
    assert "leave-policy.txt" in answer.locator(".sources").inner_text()
    page.reload()  # the choice and the chat survive a reload
    page.locator("#log .bot").first.wait_for(timeout=15_000)
    assert page.input_value("#collection") == "hr"
    assert "27" in page.locator("#log .bot .answer").first.inner_text()
