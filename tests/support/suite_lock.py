"""Tests that must run alone while the suite runs on several xdist workers: the chaos and failure scenarios
(tests/chaos) inject faults into real processes and wait on them with deadlines, so another worker's stack
starting on the same two cores must not share the machine with them.

A readers-writer lock on a file, across the workers of one run: every other test holds it shared, a test that
runs alone holds it exclusively. A turnstile (a second lock taken first by both) keeps the writer from being
starved: once it waits, no new reader gets in."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class SuiteLock:
    def __init__(self, folder: Path) -> None:
        """`folder`: one the workers of the run share (its temporary directory, which pytest cleans up)."""
        self.turnstile = folder / "suite-lock.turnstile"
        self.room = folder / "suite-lock.room"

    @contextlib.contextmanager
    def _locked(self, path: Path, mode: int) -> Iterator[None]:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, mode)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._locked(self.turnstile, fcntl.LOCK_EX):
            pass
        with self._locked(self.room, fcntl.LOCK_SH):
            yield

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._locked(self.turnstile, fcntl.LOCK_EX), self._locked(self.room, fcntl.LOCK_EX):
            yield
