"""Isolation backends.  `open_backend` is the only place that knows their names."""

from __future__ import annotations

from harness.sandbox.base import Backend, SandboxUnavailable

BACKENDS = ("nsjail",)


def open_backend(name: str) -> Backend:
    if name == "nsjail":
        from harness.sandbox.nsjail import NsjailBackend
        return NsjailBackend()
    raise SandboxUnavailable(f"backend '{name}' is not available in this version "
                             f"(available: {', '.join(BACKENDS)})")
