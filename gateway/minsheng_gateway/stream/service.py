"""实时: "views changed" pushed to the web app after each fold commits, as Server-Sent Events.

The consumer's fold commits in a worker thread; `ViewsBroadcaster.publish` hands the campaigns it
touched to every subscriber's own event loop.  Each subscriber has a small bounded queue: one that falls
behind gets a single "refetch everything" signal instead of a growing backlog, so a slow browser never
holds memory nor slows the fold."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from minsheng.messaging.consumer import TypedEvent
from minsheng_gateway.metrics import campaign_of, observe_freshness

EVENT = "views-changed"
KEEP_ALIVE_SECONDS = 15.0
QUEUE_SIZE = 16
EVERYTHING: frozenset[str] = frozenset()  # the signal of a subscriber that fell behind: refetch everything


@dataclass(eq=False)
class Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[frozenset[str]] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    behind: bool = False  # its queue holds only the "everything" signal, which covers any later change

    def offer(self, campaigns: frozenset[str]) -> None:
        """On the subscriber's loop. A full queue is replaced by one "everything" signal."""
        if self.behind and not self.queue.empty():
            return
        self.behind = False
        try:
            self.queue.put_nowait(campaigns)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(EVERYTHING)
            self.behind = True


class ViewsBroadcaster:
    """One per app (`app.state.views_changes`): `publish` from any thread, `subscribe` on a loop."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, campaigns: Iterable[str]) -> None:
        touched = frozenset(campaigns)
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, touched)
            except RuntimeError:  # its loop closed: the app is shutting down
                self._forget(subscriber)

    def _forget(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[frozenset[str]]]:
        subscriber = Subscriber(asyncio.get_running_loop())
        with self._lock:
            self._subscribers.add(subscriber)
        try:
            yield subscriber.queue
        finally:
            self._forget(subscriber)

    def committed(self, events: list[TypedEvent]) -> None:
        """The consumer's `committed=` hook: the views are as fresh as measured, and every page is told."""
        observe_freshness(events)
        self.publish(campaign_of(event) for event in events)


def sse(campaigns: frozenset[str]) -> str:
    data = json.dumps({"campaigns": sorted(campaigns)})
    return f"event: {EVENT}\ndata: {data}\n\n"


async def event_stream(broadcaster: ViewsBroadcaster, keep_alive: float = KEEP_ALIVE_SECONDS) -> AsyncIterator[str]:
    async with broadcaster.subscribe() as queue:
        # The first bytes go out at once: proxies and the browser see an open stream, and `retry`
        # sets how soon the EventSource reconnects after a drop.
        yield "retry: 2000\n: connected\n\n"
        while True:
            try:
                campaigns = await asyncio.wait_for(queue.get(), timeout=keep_alive)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            yield sse(campaigns)


__all__ = ["EVENT", "ViewsBroadcaster", "event_stream", "sse"]
