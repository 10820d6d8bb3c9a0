"""A channel adapter: sends one message, says whether a failure is worth retrying, and limits its own rate."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Protocol

from minsheng_notifier.messages.models import Channel, Message
from minsheng_notifier.robots.models import Robot


class ChannelError(Exception):
    """The channel refused or failed; `retry`: worth another try later (a 4xx from a robot is not)."""

    def __init__(self, detail: str, *, retry: bool = True):
        super().__init__(detail)
        self.retry = retry


class RateWindow:
    """At most `per_minute` sends per key in any 60 seconds (a robot's documented 20 a minute)."""

    def __init__(self, per_minute: float, clock=time.monotonic):  # noqa: ANN001 - a () -> float
        self.per_minute = int(per_minute)
        self.clock = clock
        self._sent: dict[str, deque[float]] = defaultdict(deque)

    def wait(self, key: str) -> float:
        """Seconds until `key` may send again; 0 when it may now (and the send is counted)."""
        if self.per_minute <= 0:
            return 0.0
        now, sent = self.clock(), self._sent[key]
        while sent and now - sent[0] >= 60.0:
            sent.popleft()
        if len(sent) >= self.per_minute:
            return 60.0 - (now - sent[0])
        sent.append(now)
        return 0.0


class Adapter(Protocol):
    channel: Channel
    limit: RateWindow

    def rate_key(self, message: Message) -> str: ...

    async def send(self, message: Message, *, robot: Robot | None, link: str) -> None:
        """Raises ChannelError when the message did not get through."""
