"""Fixed-window request limits per project and request class."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.core.config import RateLimits
from chalicelib.core.domain.errors import TooManyRequests
from chalicelib.core.ports import RateCounter

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RateDecision:
    limit: int
    remaining: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Retry-After": str(self.retry_after),
        }


def request_class(method: str, path: str) -> str:
    if "/source" in path or path.startswith("/upload"):
        return "uploads"
    return "reads" if method in ("GET", "HEAD", "OPTIONS") else "writes"


def decide(count: int, limit: int, now: float) -> RateDecision:
    window_start = int(now) - int(now) % WINDOW_SECONDS
    retry_after = max(1, window_start + WINDOW_SECONDS - int(now))
    return RateDecision(limit=limit, remaining=max(0, limit - count), retry_after=retry_after)


class RateLimiter:
    def __init__(self, counter: RateCounter, limits: RateLimits, clock: Callable[[], float]) -> None:
        self.counter = counter
        self.limits = limits
        self.clock = clock

    def check(self, project_id: str, bucket: str) -> RateDecision:
        now = self.clock()
        window_start = int(now) - int(now) % WINDOW_SECONDS
        count = self.counter.hit(project_id, bucket, window_start, WINDOW_SECONDS)
        decision = decide(count, getattr(self.limits, bucket), now)
        if count > decision.limit:
            headers = {**decision.headers(), "Retry-After": str(decision.retry_after)}
            raise TooManyRequests(headers=headers)
        return decision
