"""Back-pressure at the HTTP edge: bounded answering concurrency, a bounded queue, time limits,
and optional per-key rate limits. Past capacity the server says so at once (429 + Retry-After)
instead of queueing without bound.

- ``ConcurrencyLimitMiddleware`` (answering routes only): ``QA_MAX_CONCURRENT_ANSWERS`` requests
  are answered at once, ``QA_MAX_QUEUE`` more wait for a slot, the rest get 429 ``overloaded``.
  A request that would not have its answer within ``QA_MAX_WAIT_S`` -- its expected wait (rounds
  of the queue x recent answer time) plus one answer -- is shed at once: 503 ``overloaded`` with
  Retry-After = that wait. A free slot always admits, however slow answers are.
  ``QA_REQUEST_TIMEOUT_S`` bounds a request from arrival to its last byte: 503 ``timeout`` when
  no response has started, else an in-band SSE ``error`` event. A timed-out answer keeps its slot
  until its worker thread really finishes, so slots always count the work in progress.
- ``RateLimitMiddleware``: ``QA_RATE_LIMIT_PER_MINUTE`` requests per configured API key, else per
  client address (a token that is not a configured key never gets a budget of its own), in a
  sliding window kept by the ``limits`` library: in this process, or in Redis with
  ``QA_SESSION_STORE=redis`` so the limit holds across replicas (api/limit_storage.py); 429
  ``rate_limited`` with Retry-After beyond it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections import deque
from collections.abc import Collection

from limits.aio.storage import Storage
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body, error_response
from api.limit_storage import PerMinuteLimit
from api.security import bearer_token, client_address, is_exempt
from qa.collections.access import KeyRing

#: Routes that compute answers; probes, documents and the page are never queued behind them.
ANSWER_PATHS = frozenset({"/api/ask", "/api/chat", "/v1/chat/completions"})


class WaitTooLong(Exception):
    """A request would not have its answer within the budget: ``expected_s`` seconds to the answer,
    ``wait_s`` of them waiting for a slot."""

    def __init__(self, expected_s: float, wait_s: float) -> None:
        super().__init__(f"expected answer in {expected_s:.1f} s")
        self.expected_s = expected_s
        self.wait_s = wait_s


# What an answer is assumed to take before one has been timed: the reader answers in under a second
# on a 2-core machine, so a cold-start burst queues about as deep as a warm one.
FIRST_ANSWER_S = 1.0


class SlotLimiter:
    """At most ``max_active`` holders and ``max_waiting`` waiters, first come first served.

    It also knows how long answers take lately (the slow end, ``SLOW_QUANTILE``, of the last
    ``RECENT`` holds, or the age of the oldest running one when that is longer), so it can say how
    long a request arriving now would wait: ``expected_wait_s``. Until the first answer is timed it assumes
    ``first_answer_s`` per answer running (assuming 0 s let a burst of 50 clients at start-up all queue,
    the last for 17 s; assuming 1 s while 4 answers shared 2 cores served the first waiters after 3 s).
    """

    RECENT = 32
    # The budget is about the slow answers (a p99 promise), so the estimate takes the slow end of
    # recent answers, not their median: with the median, served answers ran to 1.5x the budget.
    SLOW_QUANTILE = 0.9

    def __init__(self, *, max_active: int, max_waiting: int, first_answer_s: float = FIRST_ANSWER_S) -> None:
        self.max_active = max_active
        self.first_answer_s = first_answer_s
        self.max_waiting = max_waiting
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._recent: deque[float] = deque(maxlen=self.RECENT)
        self._running: list[float] = []  # start times of the holds in progress

    @property
    def waiting(self) -> int:
        """Requests queued for a slot now."""
        return len(self._waiters)

    def answer_time_s(self) -> float:
        """Seconds one answer takes lately; ``first_answer_s`` before the first one is timed."""
        recent = sorted(self._recent)
        if recent:
            slow = recent[int(self.SLOW_QUANTILE * (len(recent) - 1))]
        else:  # untimed: the answers running together are assumed to share the CPU
            slow = self.first_answer_s * max(1, self.active)
        oldest = time.monotonic() - min(self._running) if self._running else 0.0
        return max(slow, oldest)

    def expected_wait_s(self) -> float:
        """Seconds a request arriving now would wait for a slot: rounds of the queue x answer time."""
        if self.active < self.max_active and not self._waiters:
            return 0.0
        rounds = len(self._waiters) // self.max_active + 1
        return rounds * self.answer_time_s()

    async def acquire(self, max_wait_s: float | None = None) -> bool:
        """Take a slot, waiting in the queue if there is room; False when both are full.

        Raises ``WaitTooLong`` when a slot is not free and the expected wait plus one answer
        exceeds ``max_wait_s`` (the budget is the client's: time to its answer, not to a slot; a
        wait-only budget served answers after budget + answer time). Checked in the same step that
        takes the slot or joins the queue, so requests arriving together are counted one after
        another (a check before ``acquire`` would let a whole burst see an empty queue).
        """
        if self.active < self.max_active and not self._waiters:
            self.active += 1
            return True
        if max_wait_s is not None:
            wait, answer = self.expected_wait_s(), self.answer_time_s()
            if wait + answer > max_wait_s:
                raise WaitTooLong(wait + answer, wait)
        if len(self._waiters) >= self.max_waiting:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as we gave up: pass it on
            else:
                self._waiters.remove(waiter)
            raise
        return True

    def started(self) -> float:
        """Mark a hold as running (after ``acquire``); pass the returned time to ``release``."""
        now = time.monotonic()
        self._running.append(now)
        return now

    def release(self, started: float | None = None) -> None:
        """Give the slot to the next waiter, or free it; ``started`` records how long the hold took."""
        if started is not None and started in self._running:
            self._running.remove(started)
            self._recent.append(time.monotonic() - started)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves to the waiter: ``active`` is unchanged
                return
        self.active -= 1


class ConcurrencyLimitMiddleware:
    """Bound the answers computed at once, the queue before them, and each request's time."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_concurrent: int,
        max_queue: int,
        timeout_s: float,
        max_wait_s: float | None = None,
        paths: Collection[str] = ANSWER_PATHS,
        retry_after_s: int = 1,
    ) -> None:
        self.app = app
        self.limiter = SlotLimiter(max_active=max_concurrent, max_waiting=max_queue)
        self.timeout_s = timeout_s
        self.max_wait_s = max_wait_s
        self.paths = frozenset(paths)
        self.retry_after_s = retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.timeout_s
        try:
            admitted = await asyncio.wait_for(self.limiter.acquire(self.max_wait_s), self.timeout_s)
        except WaitTooLong as shed:
            message = (
                f"The server is busy: a new question would have its answer in about {shed.expected_s:.1f} s, "
                f"over the {self.max_wait_s:g} s budget (QA_MAX_WAIT_S); retry after the Retry-After seconds."
            )
            headers = {"Retry-After": str(self._retry_after(shed.wait_s))}
            await error_response(503, "overloaded", message, headers=headers)(scope, receive, send)
            return
        except TimeoutError:
            await self._timeout_response(scope, receive, send)
            return
        if not admitted:
            message = (
                f"The server is answering {self.limiter.max_active} questions with {self.limiter.max_waiting} "
                "waiting (QA_MAX_CONCURRENT_ANSWERS, QA_MAX_QUEUE); retry after the Retry-After seconds."
            )
            headers = {"Retry-After": str(self._retry_after(self.limiter.expected_wait_s()))}
            await error_response(429, "overloaded", message, headers=headers)(scope, receive, send)
            return
        await self._run_with_deadline(scope, receive, send, deadline)

    def _retry_after(self, expected_wait_s: float) -> int:
        # When the queue ahead of this request would have drained: an honest wait, not a constant.
        return max(self.retry_after_s, math.ceil(expected_wait_s))

    async def _run_with_deadline(self, scope: Scope, receive: Receive, send: Send, deadline: float) -> None:
        started = self.limiter.started()
        lock = asyncio.Lock()  # our timeout reply never interleaves with a send in progress
        state = {"started": False, "streaming": False, "finished": False, "abandoned": False}

        async def guarded_send(message: Message) -> None:
            async with lock:
                if state["abandoned"]:
                    return  # the client already has its timeout reply
                if message["type"] == "http.response.start":
                    state["started"] = True
                    content_type = dict(message.get("headers", ())).get(b"content-type", b"")
                    state["streaming"] = content_type.startswith(b"text/event-stream")
                elif message["type"] == "http.response.body" and not message.get("more_body", False):
                    state["finished"] = True
                await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        try:
            await asyncio.wait_for(asyncio.shield(task), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            pass
        except BaseException:
            self.limiter.release(started)
            raise
        else:
            self.limiter.release(started)
            return
        # Too slow: answer the client now. The work is not cancelled (a worker thread cannot be
        # stopped anyway); it runs to its end with its output dropped, and keeps its slot until then.
        task.add_done_callback(lambda done: self._release_when_done(done, started))
        async with lock:
            state["abandoned"] = True
            if state["finished"]:
                return
            if not state["started"]:
                await self._timeout_response(scope, receive, send)
            elif state["streaming"]:
                event = json.dumps(error_body("timeout", self._timeout_message()))
                await send(
                    {
                        "type": "http.response.body",
                        "body": f"event: error\ndata: {event}\n\n".encode(),
                        "more_body": True,
                    }
                )
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _release_when_done(self, task: asyncio.Future[None], started: float) -> None:
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not warn about it
        self.limiter.release(started)

    def _timeout_message(self) -> str:
        return (
            f"The answer took longer than {self.timeout_s:g} s (QA_REQUEST_TIMEOUT_S); the server is busy. "
            "Retry in a moment."
        )

    async def _timeout_response(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(503, "timeout", self._timeout_message(), headers={"Retry-After": "5"})
        await response(scope, receive, send)


class RateLimitMiddleware:
    """``per_minute`` requests per configured API key, or per client address, in a sliding window."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        keys: KeyRing | None = None,
        storage: Storage | None = None,
    ) -> None:
        self.app = app
        self.keys = keys
        self.limiter = PerMinuteLimit(per_minute, namespace="qa-requests", storage=storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = None if is_exempt(scope) else client_key(scope, self.keys)
        if client is None or await self.limiter.hit(client):
            await self.app(scope, receive, send)
            return
        wait_s = await self.limiter.retry_after_s(client)
        message = (
            f"Rate limit: {self.limiter.amount} requests per minute per API key or client address "
            f"(QA_RATE_LIMIT_PER_MINUTE). Retry in {wait_s} s."
        )
        headers = {"Retry-After": str(wait_s)}
        await error_response(429, "rate_limited", message, headers=headers)(scope, receive, send)


def client_key(scope: Scope, keys: KeyRing | None = None) -> str:
    """Who a request counts against: a digest of its key when it is a configured one, else its address.

    Any other token is ignored: counting by whatever a client sends would give each made-up token
    a fresh budget (and a fresh entry in the counts).
    """
    token = bearer_token(scope)
    if token is not None and keys is not None and keys.match(token) is not None:
        return "key:" + hashlib.sha256(token.encode("utf-8")).hexdigest()
    return "addr:" + client_address(scope)
