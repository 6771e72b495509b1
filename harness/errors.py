"""Errors a user can act on.

Every problem with the input (a bundle, an archive, a command-line option) is
raised as :class:`InputError`, which carries *where* (file, line, field) so
the CLI can print one precise line and exit 2 instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
        parts = [p for p in (where, f"field '{self.field}'" if self.field else "") if p]
        prefix = ", ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass
class InputError(Exception):
    """The bundle or the command line is invalid (exit code 2)."""

    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def single(cls, message: str, *, file: str | None = None, line: int | None = None,
               field: str | None = None) -> "InputError":
        return cls([Problem(message, file=file, line=line, field=field)])

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
