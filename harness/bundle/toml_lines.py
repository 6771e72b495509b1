"""Find the line of a key in a TOML document.

``tomllib`` gives line numbers only for syntax errors.  Validation errors come
from pydantic as a key path (``claim / 1 / tolerence``); to point the user at
the right line we scan the source once and remember where every table header
and every key (including keys of one-line inline tables) was written.  The
scan is deliberately simple: it only has to be good enough for locating, the
parsing itself is done by ``tomllib``.
"""

from __future__ import annotations

import re

Path_ = tuple[str | int, ...]

_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")


def _split_dotted(text: str) -> list[str]:
    parts = re.findall(_KEY, text)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


class KeyLines:
    """Maps key paths (as pydantic reports them) to 1-based line numbers."""

    def __init__(self, source: str):
        self._lines: dict[Path_, int] = {}
        array_counts: dict[tuple[str, ...], int] = {}
        table: Path_ = ()
        for number, raw in enumerate(source.splitlines(), start=1):
            line = raw.split("#", 1)[0] if '"' not in raw and "'" not in raw else raw
            header = _HEADER.match(line)
            if header:
                keys = _split_dotted(header.group(2))
                table = self._resolve(keys, array_counts)
                if header.group(1) == "[[":
                    count = array_counts.get(tuple(keys), 0)
                    array_counts[tuple(keys)] = count + 1
                    table = self._resolve(keys[:-1], array_counts) + (keys[-1], count)
                self._lines.setdefault(table, number)
                continue
            assign = _ASSIGN.match(line)
            if not assign:
                continue
            path = table + tuple(_split_dotted(assign.group(1)))
            self._lines.setdefault(path, number)
            rest = line[assign.end():]
            for inner in _INLINE_KEY.finditer(rest):
                self._lines.setdefault(path + tuple(_split_dotted(inner.group(1))), number)

    @staticmethod
    def _resolve(keys: list[str], array_counts: dict[tuple[str, ...], int]) -> Path_:
        """`[claim.tolerance]` after `[[claim]]` means the last claim's table."""
        path: list[str | int] = []
        for i, key in enumerate(keys):
            path.append(key)
            count = array_counts.get(tuple(keys[: i + 1]))
            if count:
                path.append(count - 1)
        return tuple(path)

    def line_of(self, path: Path_) -> int | None:
        """The line of the longest prefix of `path` that was written in the source."""
        for end in range(len(path), 0, -1):
            found = self._lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None
