"""The chat page in real headless Chromium: streamed answers, cited passages, inert markup, 360 px."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api import create_app
from tests.support import BAYKAR_QUOTE, LiveServer, fast_service, fast_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XSS_SEED = (
    "Harbour notes\n\n"
    "The grain ships from Odessa unload at the port of Samsun <script>window.__xss=1</script> every Tuesday. "
    'The crane operator wrote <img src=x onerror="window.__xss=1"> on the manifest.\n'
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page_server(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> LiveServer:
    settings = fast_settings(tmp_path)
    (settings.seeds_dir / "harbour-notes.txt").write_text(XSS_SEED, encoding="utf-8")
    return serve(create_app(service=fast_service(settings)))


@pytest.fixture
def page(browser: Any, page_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(page_server.url + "/")
    yield page
    context.close()
    assert problems == []  # CSP violations and script errors show up here


def ask(page: Any, question: str) -> Any:
    """Type a question, press Enter, and return the finished answer bubble."""
    before = page.locator("#log .bot").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    bubble = page.locator("#log .bot").nth(before)
    bubble.and_(page.locator(":not(.pending)")).wait_for(timeout=15_000)
    return bubble


def test_answer_with_citation_opens_the_highlighted_passage(page: Any) -> None:
    bubble = ask(page, "Who makes the TB2?")
    assert bubble.locator(".answer").inner_text().startswith("Baykar")
    assert page.locator("#log .user").inner_text() == "Who makes the TB2?"
    bubble.locator("button.cite", has_text="[1]").click()
    mark = page.locator("#source-text mark")
    mark.wait_for()
    assert BAYKAR_QUOTE in mark.inner_text()
    assert page.locator("#source").is_visible()
    assert page.locator("#source-title").inner_text() == "Zelensky Istanbul Turkish Drones"
    assert mark.evaluate("m => { const r = m.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")


def test_abstention_is_shown(page: Any) -> None:
    bubble = ask(page, "What is the capital of France?")
    assert bubble.locator(".answer").inner_text() == "The documents don't cover this."
    assert bubble.locator("button.cite").count() == 0
    assert bubble.locator("ol.related").count() == 0  # nothing retrieved shares a word with it


def test_abstention_lists_the_closest_passages_that_open_in_the_viewer(page: Any) -> None:
    # Issue 28: an abstention showed nothing, even when the passage that holds the answer was
    # retrieved first.
    bubble = ask(page, "How much does the TB2 cost?")
    assert bubble.locator(".answer").inner_text() == "Not stated directly. Closest passages:"
    assert bubble.locator("button.cite").count() == 0
    passages = bubble.locator("ol.related li")
    assert 1 <= passages.count() <= 3
    first = passages.first
    quote = first.locator("q").inner_text()
    assert "Bayraktar TB2" in quote
    first.locator("button.related-source").click()
    mark = page.locator("#source-text mark")
    mark.wait_for()
    assert mark.inner_text() == quote
    assert page.locator("#source-title").inner_text() == "Zelensky Istanbul Turkish Drones"


def test_markup_in_documents_renders_as_text(page: Any) -> None:
    bubble = ask(page, "What did the crane operator write on the manifest?")
    assert '<img src=x onerror="window.__xss=1">' in bubble.inner_text()
    bubble.locator("button.cite").first.click()
    page.locator("#source-text mark").wait_for()
    source = page.locator("#source-text").inner_text()
    assert "<script>window.__xss=1</script>" in source
    assert '<img src=x onerror="window.__xss=1">' in page.locator("#source-text mark").inner_text()
    ask(page, "Where do the grain ships from Odessa unload?").locator("button.cite").first.click()
    page.wait_for_timeout(300)  # give any injected handler a chance to run
    assert page.evaluate("window.__xss") is None
    assert page.locator("#log img, #log script, #source-text img, #source-text script").count() == 0


def test_usable_at_360_px(browser: Any, page_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    page.goto(page_server.url + "/")
    for selector in ("#question", "#send"):
        box = page.locator(selector).bounding_box()
        assert page.locator(selector).is_visible()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["y"] + box["height"] <= 640
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    ask(page, "Who makes the TB2?").locator("button.cite").first.click()
    page.locator("#source-text mark").wait_for()
    page.click("#source-close")
    assert not page.locator("#source").is_visible()
    assert page.locator("#question").is_visible()
    context.close()


def test_page_sends_the_api_key_from_its_key_field(
    browser: Any, tmp_path: Path, serve: Callable[[FastAPI], LiveServer]
) -> None:
    settings = fast_settings(tmp_path, api_keys=[SecretStr("s3cret-key-0123456789")])
    live = serve(create_app(service=fast_service(settings)))
    context = browser.new_context()
    page = context.new_page()
    page.goto(live.url + "/")  # the page itself needs no key
    assert "API key" in ask(page, "Who makes the TB2?").inner_text()
    page.click(".key summary")
    page.fill("#api-key", "s3cret-key-0123456789")
    page.click("#key-form button")
    assert ask(page, "Who makes the TB2?").locator(".answer").inner_text().startswith("Baykar")
    assert page.evaluate("localStorage.getItem('seed-qa.apiKey')") == "s3cret-key-0123456789"
    context.close()


def test_docs_page_renders_offline(browser: Any, page_server: LiveServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(page_server.url + "/docs")
    page.get_by_text("/api/ask", exact=True).first.wait_for(timeout=15_000)
    assert problems == []
    context.close()
