"""Capped exponential backoff, shared by the relay (per outbox row and per reconnect) and the consumer."""

from __future__ import annotations

from dataclasses import dataclass


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """Seconds to wait after the `attempt`-th consecutive failure (1-based): initial, 2×, 4×, … capped."""
    if attempt < 1:
        return 0.0
    return min(maximum, initial * 2 ** min(attempt - 1, 32))


@dataclass
class Backoff:
    """Counts consecutive failures; `next()` gives the delay after one more, `reset()` after a success."""

    initial: float = 0.5
    maximum: float = 30.0
    failures: int = 0

    def next(self) -> float:
        self.failures += 1
        return backoff_delay(self.failures, self.initial, self.maximum)

    def reset(self) -> None:
        self.failures = 0
