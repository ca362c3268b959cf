"""Where rate-limit counts live (the ``limits`` library): in this process by default, in Redis with
``QA_SESSION_STORE=redis`` so that every replica counts against the same limit. ``PerMinuteLimit``
is the sliding-window count both the rate limit and the failed-key limit use.

When Redis cannot be reached the limits fail open (the request is served, a warning is logged at
most once a minute): chat sessions already report the outage, and refusing every request because
a counter is unreachable would turn a Redis blip into a full outage.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable
from typing import TypeVar

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from qa.config import Settings
from qa.errors import ConfigurationError

logger = logging.getLogger(__name__)

#: Prefix of the rate-limit keys in Redis, beside the sessions' ``qa:session:``.
REDIS_PREFIX = "qa:limits"
_T = TypeVar("_T")
_last_warning = 0.0


def memory_storage() -> Storage:
    """Counts in this process only."""
    return MemoryStorage()


def build_limit_storage(settings: Settings) -> Storage:
    """Redis (shared by the replicas) when the sessions use Redis, else this process's memory."""
    if settings.session_store != "redis":
        return memory_storage()
    if not settings.redis_url:
        raise ConfigurationError("QA_SESSION_STORE=redis needs QA_REDIS_URL, e.g. redis://localhost:6379/0.")
    try:
        return RedisStorage(
            "async+" + settings.redis_url,
            wrap_exceptions=True,
            implementation="redispy",
            key_prefix=REDIS_PREFIX,
            socket_timeout=2.0,
            socket_connect_timeout=2.0,
        )
    except Exception as exc:  # limits' own ConfigurationError (no redis package) or a malformed URL
        raise ConfigurationError(
            f"Cannot use Redis for rate limits ({exc}). Check QA_REDIS_URL and `pip install 'seed-qa[scale]'`."
        ) from None


async def limiter_call(call: Awaitable[_T], *, default: _T) -> _T:
    """``await call``, or ``default`` when the storage is unreachable (fail open, warn once a minute)."""
    global _last_warning
    try:
        return await call
    except (StorageError, OSError) as exc:
        now = time.monotonic()
        if now - _last_warning >= 60:
            _last_warning = now
            logger.warning("Rate-limit storage unreachable (%s); requests are not limited meanwhile.", exc)
        return default


class PerMinuteLimit:
    """At most ``amount`` hits a minute per key, in a sliding window; fails open (``limiter_call``)."""

    def __init__(self, amount: int, *, namespace: str, storage: Storage | None = None) -> None:
        self.amount = amount
        self.storage = storage or memory_storage()
        self._item = RateLimitItemPerMinute(amount, namespace=namespace)
        self._limiter = SlidingWindowCounterRateLimiter(self.storage)

    async def hit(self, key: str) -> bool:
        """Count one hit for ``key``; False when it is over the limit."""
        return await limiter_call(self._limiter.hit(self._item, key), default=True)

    async def test(self, key: str) -> bool:
        """True when ``key`` may hit once more (nothing counted)."""
        return await limiter_call(self._limiter.test(self._item, key), default=True)

    async def retry_after_s(self, key: str) -> int:
        """Whole seconds until ``key``'s window frees up (60 when the storage cannot say)."""
        stats = await limiter_call(self._limiter.get_window_stats(self._item, key), default=None)
        return max(1, math.ceil(stats.reset_time - time.time())) if stats else 60
