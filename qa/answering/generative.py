"""Generative answers through any OpenAI-compatible server, with every citation checked.

The model sees the retrieved chunks as numbered passages (``qa.answering.prompting``) and writes a few
sentences with ``[n]`` markers; ``qa.answering.citation_check`` then removes markers that point nowhere,
renumbers the rest as citations, pins each citation to an exact document sentence and flags what
the passages do not support. An answer with no supported citation abstains.

The server must never hang a request: each attempt is limited to ``llm_timeout_s``, all attempts
together to ``2 * llm_timeout_s``; timeouts, connection errors and 5xx/429 answers are retried
(twice, with backoff) within that budget, and any failure falls back to the offline answerer.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from qa.answering.base import Answerer, BaseAnswerer
from qa.answering.citation_check import MarkerRewriter, check_citations, says_not_in_documents
from qa.answering.prompting import NOT_IN_DOCUMENTS, Message, answer_messages, condense_messages
from qa.embedding import Embedder
from qa.schema import Draft, Hit, Turn

if TYPE_CHECKING:
    from openai import OpenAI

    from qa.config import Settings

logger = logging.getLogger(__name__)

MODE = "generative"
T = TypeVar("T")


class LLMUnavailable(Exception):
    """The LLM could not be reached or answered with an error; ``reason`` is a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GenerativeAnswerer(BaseAnswerer):
    """Answers with an LLM from the retrieved passages; falls back to ``fallback`` when the LLM fails."""

    name = "generative"
    threshold: None = None  # no score decides: the model says NOT IN DOCUMENTS or its citations fail the check

    def __init__(
        self,
        client: OpenAI,
        *,
        model: str,
        embedder: Embedder,
        fallback: Answerer,
        max_passages: int,
        timeout_s: float = 30.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        max_tokens: int = 400,
    ) -> None:
        self._client = client
        self.model = model
        self._embedder = embedder
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_passages = max_passages
        self.max_tokens = max_tokens

    # Answerer protocol ----------------------------------------------------------------------

    def answer_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Draft]:
        """Text deltas as the model writes them (markers already renumbered), then the final Draft.

        The streamed text equals the final ``Draft.answer`` when the answer stands. When the
        stream fails midway, the last item is the offline Draft, whose note says why.
        """
        passages = list(hits[: self.max_passages])
        if not passages:
            yield _abstain(None)
            return
        rewriter = MarkerRewriter(len(passages))
        text, held = "", ""
        try:
            for delta in self._stream(answer_messages(question, passages)):
                out = rewriter.feed(delta)
                text += out
                held += out
                # Hold back a reply that may yet turn out to be the "not in documents" refusal.
                if held and not _may_be_refusal(text):
                    yield held
                    held = ""
        except LLMUnavailable as failure:
            yield self._fall_back(question, hits, failure.reason)
            return
        tail = rewriter.flush()
        text += tail
        held += tail
        if held and not says_not_in_documents(text):
            yield held
        yield self._verify(text, [passages[p - 1] for p in rewriter.order])

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """The follow-up ``question`` rewritten by the LLM as a standalone question.

        Falls back to the offline rewrite (``BaseAnswerer.condense``) when the LLM fails or returns
        something that is not a plausible question.
        """
        if not history:
            return question
        try:
            text = self._complete(condense_messages(question, history), max_tokens=96)
        except LLMUnavailable as failure:
            logger.warning("LLM condensation failed (%s); using the offline rewrite.", failure.reason)
            return super().condense(question, history)
        rewritten = _first_line(text)
        if not rewritten or len(rewritten) > 4 * len(question) + 200 or says_not_in_documents(rewritten):
            return super().condense(question, history)
        return rewritten

    # Verification ---------------------------------------------------------------------------

    def _verify(self, text: str, cited: Sequence[Hit]) -> Draft:
        text = text.strip()
        if says_not_in_documents(text):
            return _abstain(None)
        if not text:
            return _abstain("The language model returned an empty answer.")
        checked = check_citations(text, cited, self._embedder)
        if not checked.grounded:
            why = "cites no passage" if not cited else "is not supported by the passages it cites"
            return _abstain(f"The generated answer {why}, so it is not shown.")
        claims = checked.claims
        unsupported = len(checked.unsupported_claims)
        note = (
            f"{unsupported} of {len(claims)} sentences are not supported by their citations; check them."
            if unsupported
            else None
        )
        return Draft(
            answer=text,
            sentence=None,
            evidence=checked.evidence,
            confidence=sum(c.support for c in claims) / len(claims) if claims else 0.0,
            abstained=False,
            mode=MODE,
            note=note,
            supported=checked.supported,
        )

    def _fall_back(self, question: str, hits: Sequence[Hit], reason: str) -> Draft:
        logger.warning("LLM unavailable (%s); answering offline.", reason)
        draft = self.fallback.answer(question, hits)
        note = f"LLM unavailable ({reason}); offline answer."
        return dataclasses.replace(draft, note=f"{note} {draft.note}" if draft.note else note)

    # Calls to the server --------------------------------------------------------------------

    def _complete(self, messages: list[Message], *, max_tokens: int) -> str:
        response = self._with_retries(lambda timeout: self._create(messages, max_tokens, timeout, stream=False))
        try:
            content = response.choices[0].message.content
        except (AttributeError, IndexError) as exc:
            raise LLMUnavailable("malformed response") from exc
        return content or ""

    def _stream(self, messages: list[Message]) -> Iterator[str]:
        deadline = time.monotonic() + 2 * self.timeout_s
        stream = self._with_retries(lambda timeout: self._create(messages, self.max_tokens, timeout, stream=True))
        try:
            for event in stream:
                if time.monotonic() > deadline:
                    raise LLMUnavailable("timeout")
                delta = event.choices[0].delta.content if event.choices else None
                if delta:
                    yield delta
        except LLMUnavailable:
            raise
        except Exception as exc:  # a broken stream raises whatever its transport raises
            raise LLMUnavailable(_reason(exc)) from exc
        finally:
            stream.close()

    def _create(self, messages: list[Message], max_tokens: int, timeout: float, *, stream: bool) -> Any:
        return self._client.chat.completions.create(
            model=self.model,
            messages=messages,  # type: ignore[arg-type]
            temperature=0.0,
            max_tokens=max_tokens,
            stream=stream,
            timeout=timeout,
        )

    def _with_retries(self, call: Callable[[float], T]) -> T:
        """``call(timeout)``, retried on transient failures, all within ``2 * timeout_s``."""
        import openai

        deadline = time.monotonic() + 2 * self.timeout_s
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            remaining = deadline - time.monotonic()
            try:
                return call(min(self.timeout_s, remaining))
            except openai.APIError as exc:
                reason = _reason(exc)
                transient = isinstance(exc, openai.APIConnectionError) or (  # includes timeouts
                    isinstance(exc, openai.APIStatusError) and (exc.status_code >= 500 or exc.status_code == 429)
                )
                out_of_time = time.monotonic() + delay >= deadline
                if not transient or attempt == self.retries or out_of_time:
                    raise LLMUnavailable(reason) from exc
                logger.info("LLM call failed (%s); retry %d in %.1fs.", reason, attempt + 1, delay)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")


def build_generative_answerer(settings: Settings, *, embedder: Embedder, fallback: Answerer) -> GenerativeAnswerer:
    """The generative answerer for ``QA_LLM_BASE_URL`` / ``QA_LLM_MODEL`` (``QA_LLM_API_KEY`` optional)."""
    from qa.errors import ConfigurationError

    try:
        from openai import OpenAI
    except ImportError as exc:  # the [llm] extra is optional: say how to get it
        raise ConfigurationError(
            "QA_LLM_BASE_URL is set but the OpenAI client is not installed. "
            "Install the extra with: pip install 'seed-qa[llm]' (or unset QA_LLM_BASE_URL)."
        ) from exc

    if not settings.llm_base_url or not settings.llm_model:
        raise ConfigurationError("Set both QA_LLM_BASE_URL and QA_LLM_MODEL to use an LLM, or neither.")
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    client = OpenAI(base_url=settings.llm_base_url, api_key=api_key, timeout=settings.llm_timeout_s, max_retries=0)
    return GenerativeAnswerer(
        client,
        model=settings.llm_model,
        embedder=embedder,
        fallback=fallback,
        timeout_s=settings.llm_timeout_s,
        max_passages=settings.top_k,
    )


def _abstain(note: str | None) -> Draft:
    return Draft.abstain(mode=MODE, note=note)


def _reason(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection error"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if "timeout" in type(exc).__name__.lower():
        return "timeout"
    return f"stream broken: {type(exc).__name__}"


def _may_be_refusal(text: str) -> bool:
    stripped = " ".join(text.split()).upper()
    return NOT_IN_DOCUMENTS.startswith(stripped) or says_not_in_documents(text)


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        line = line.strip().strip("\"'“”").strip()
        for prefix in ("standalone question:", "question:", "rewritten question:"):
            if line.lower().startswith(prefix):
                line = line[len(prefix) :].strip()
        if line:
            return line
    return ""
