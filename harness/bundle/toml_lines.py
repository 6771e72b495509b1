"""Find the line of a key in a TOML document.

``tomllib`` gives line numbers only for syntax errors.  Validation errors come
from pydantic as a key path (``claim / 1 / tolerence``); to point the user at
the right line we scan the source once and remember where every table header,
every key (including keys of inline tables and dotted keys) and every element
of an array was written.

The scanner is a small character-level lexer: it knows strings (basic,
literal and their multi-line forms), comments, inline tables and arrays, so a
``[[claim]]`` or ``key =`` that appears inside a multi-line string or after a
``#`` is not mistaken for structure.  It never raises: it is only a locator,
the parsing itself is done by ``tomllib``.
"""

from __future__ import annotations

import json

Path_ = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_WS = (" ", "\t", "\r")


class KeyLines:
    """Maps key paths (as pydantic reports them) to 1-based line numbers."""

    def __init__(self, source: str):
        self._lines: dict[Path_, int] = {}
        #: every ``key = value`` (also inside inline tables), in source order
        self.assignments: list[tuple[Path_, int]] = []
        try:
            _Scanner(source, self).run()
        except Exception:  # pragma: no cover - best effort; keep what was found
            pass

    def _record(self, path: Path_, line: int, assignment: bool = False) -> None:
        self._lines.setdefault(path, line)
        if assignment:
            self.assignments.append((path, line))

    def line_of(self, path: Path_) -> int | None:
        """The line of the longest prefix of `path` that was written in the source."""
        for end in range(len(path), 0, -1):
            found = self._lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None

    def duplicate_assignment(self) -> tuple[Path_, int, int] | None:
        """The first key assigned twice: (path, first line, second line)."""
        seen: dict[Path_, int] = {}
        for path, line in self.assignments:
            if path in seen:
                return path, seen[path], line
            seen[path] = line
        return None


class _Scanner:
    def __init__(self, source: str, out: KeyLines):
        self.s = source
        self.n = len(source)
        self.i = 0
        self.line = 1
        self.out = out
        self.table: Path_ = ()
        self.array_counts: dict[Path_, int] = {}

    # --- low level ---------------------------------------------------------

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < self.n else ""

    def startswith(self, text: str) -> bool:
        return self.s.startswith(text, self.i)

    def advance(self, k: int = 1) -> None:
        for _ in range(k):
            if self.i >= self.n:
                return
            if self.s[self.i] == "\n":
                self.line += 1
            self.i += 1

    def skip_ws(self) -> None:
        while self.i < self.n and self.s[self.i] in _WS:
            self.i += 1

    def skip_comment(self) -> None:
        if self.peek() == "#":
            while self.i < self.n and self.s[self.i] != "\n":
                self.i += 1

    def skip_blank(self) -> None:
        """Whitespace, newlines and comments."""
        while self.i < self.n:
            c = self.s[self.i]
            if c in _WS or c == "\n":
                self.advance()
            elif c == "#":
                self.skip_comment()
            else:
                return

    def skip_line(self) -> None:
        while self.i < self.n and self.s[self.i] != "\n":
            self.i += 1

    # --- structure ---------------------------------------------------------

    def run(self) -> None:
        while True:
            self.skip_blank()
            if self.i >= self.n:
                return
            start = self.i
            if self.peek() == "[":
                self.header()
            else:
                self.keyval(self.table)
            self.skip_ws()
            self.skip_comment()
            if self.peek() not in ("\n", ""):
                self.skip_line()           # something we do not understand: next line
            if self.i == start:
                self.advance()

    def resolve(self, keys: list[str]) -> Path_:
        """`[claim.tolerance]` after `[[claim]]` means the last claim's table."""
        path: list[str | int] = []
        for key in keys:
            path.append(key)
            count = self.array_counts.get(tuple(path))
            if count:
                path.append(count - 1)
        return tuple(path)

    def header(self) -> None:
        line = self.line
        double = self.peek(1) == "["
        self.advance(2 if double else 1)
        self.skip_ws()
        keys = self.dotted_key()
        self.skip_ws()
        self.advance(2 if double else 1)    # ']' or ']]'
        if not keys:
            return
        if double:
            key = self.resolve(keys[:-1]) + (keys[-1],)
            count = self.array_counts.get(key, 0)
            self.array_counts[key] = count + 1
            table = key + (count,)
        else:
            table = self.resolve(keys)
        self.out._record(table, line)
        self.table = table

    def keyval(self, table: Path_) -> None:
        line = self.line
        keys = self.dotted_key()
        self.skip_ws()
        if not keys or self.peek() != "=":
            self.skip_line()
            return
        self.advance()
        self.skip_ws()
        path = table + tuple(keys)
        for end in range(len(table) + 1, len(path)):
            self.out._record(path[:end], line)   # dotted keys: `tolerance.rel = 1`
        self.out._record(path, line, assignment=True)
        self.value(path)

    def dotted_key(self) -> list[str]:
        keys: list[str] = []
        while True:
            self.skip_ws()
            part = self.key_part()
            if part is None:
                return keys
            keys.append(part)
            self.skip_ws()
            if self.peek() != ".":
                return keys
            self.advance()

    def key_part(self) -> str | None:
        c = self.peek()
        if c == '"':
            start = self.i
            self.basic_string()
            raw = self.s[start:self.i]
            try:
                return json.loads(raw)
            except ValueError:
                return raw[1:-1]
        if c == "'":
            start = self.i
            self.literal_string()
            return self.s[start + 1:self.i - 1]
        start = self.i
        while self.i < self.n and self.s[self.i] in _BARE:
            self.i += 1
        return self.s[start:self.i] if self.i > start else None

    # --- values ------------------------------------------------------------

    def value(self, path: Path_) -> None:
        c = self.peek()
        if self.startswith('"""'):
            self.multiline_string('"""', escapes=True)
        elif self.startswith("'''"):
            self.multiline_string("'''", escapes=False)
        elif c == '"':
            self.basic_string()
        elif c == "'":
            self.literal_string()
        elif c == "{":
            self.inline_table(path)
        elif c == "[":
            self.array(path)
        else:
            # numbers, booleans, dates (which may contain one space)
            while self.i < self.n and self.s[self.i] not in ",]}\n#":
                self.i += 1

    def basic_string(self) -> None:
        self.advance()                       # opening quote
        while self.i < self.n:
            c = self.s[self.i]
            if c == "\\":
                self.advance(2)
            elif c == '"':
                self.i += 1
                return
            elif c == "\n":
                return                       # unterminated: tomllib reports it
            else:
                self.i += 1

    def literal_string(self) -> None:
        self.advance()
        while self.i < self.n:
            c = self.s[self.i]
            if c == "'":
                self.i += 1
                return
            if c == "\n":
                return
            self.i += 1

    def multiline_string(self, delimiter: str, escapes: bool) -> None:
        self.advance(3)
        while self.i < self.n:
            if escapes and self.peek() == "\\":
                self.advance(2)
            elif self.startswith(delimiter):
                self.advance(3)
                # up to two quotes right before the closing delimiter belong to the string
                for _ in range(2):
                    if self.peek() == delimiter[0]:
                        self.advance()
                return
            else:
                self.advance()

    def inline_table(self, path: Path_) -> None:
        self.advance()                       # '{'
        while self.i < self.n:
            self.skip_blank()
            c = self.peek()
            if c == "}":
                self.advance()
                return
            if c == ",":
                self.advance()
                continue
            start = self.i
            line = self.line
            keys = self.dotted_key()
            self.skip_ws()
            if keys and self.peek() == "=":
                self.advance()
                self.skip_ws()
                inner = path + tuple(keys)
                for end in range(len(path) + 1, len(inner)):
                    self.out._record(inner[:end], line)
                self.out._record(inner, line, assignment=True)
                self.value(inner)
            if self.i == start:
                if c in ("\n", "]"):
                    return                   # broken inline table: give up on it
                self.advance()

    def array(self, path: Path_) -> None:
        self.advance()                       # '['
        index = 0
        while self.i < self.n:
            self.skip_blank()
            c = self.peek()
            if c == "]":
                self.advance()
                return
            if c == ",":
                self.advance()
                index += 1
                continue
            start = self.i
            self.out._record(path + (index,), self.line)
            self.value(path + (index,))
            if self.i == start:
                self.advance()
