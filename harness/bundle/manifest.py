"""The ``repro.toml`` manifest, as pydantic models.

These models are the single source of the bundle format: validation, the
JSON Schema printed by ``repro schema bundle`` and the manifest copied into the
artifact all come from here.  Every model forbids unknown keys, so a typo such
as ``tolerence`` is an error rather than a silently ignored setting.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, StrictBool, StrictFloat,
                      StrictInt, StrictStr, field_validator, model_validator)
from pydantic_core import PydanticCustomError

BUNDLE_SCHEMA = "repro-bundle/1"
CLAIM_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"

Number = Union[StrictInt, StrictFloat]
ExpectedValue = Union[StrictBool, StrictInt, StrictFloat, StrictStr, list[Number]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _relative_path(value: str) -> str:
    """A bundle path: relative, no '..', no backslashes, not empty."""
    if not value or value.strip() != value:
        raise ValueError("must be a non-empty path without surrounding spaces")
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        raise ValueError(f"'{value}' is absolute; paths are relative to the bundle root")
    if "\\" in value:
        raise ValueError(f"'{value}' contains a backslash; use '/'")
    parts = value.split("/")
    if ".." in parts:
        raise ValueError(f"'{value}' leaves the bundle ('..' is not allowed)")
    if any(p in ("", ".") for p in parts):
        raise ValueError(f"'{value}' is not a normalised path")
    return value


BundlePath = Annotated[StrictStr, Field(description="Path relative to the bundle root")]


class Tolerance(Strict):
    """How close a computed number must be to the reported one.

    ``rel`` is relative to the expected value, ``abs`` is absolute; with both
    a value passes if either holds.  ``reported = true`` accepts anything that
    rounds to the value as printed.
    """

    rel: Annotated[Number, Field(ge=0)] | None = None
    abs: Annotated[Number, Field(ge=0)] | None = None
    reported: StrictBool | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> "Tolerance":
        if self.rel is None and self.abs is None and not self.reported:
            raise ValueError("tolerance needs 'rel', 'abs' or 'reported = true'")
        if self.reported and (self.rel is not None or self.abs is not None):
            raise ValueError("'reported = true' cannot be combined with 'rel' or 'abs'")
        for name in ("rel", "abs"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise ValueError(f"'{name}' must be a finite number")
        return self


DEFAULT_TOLERANCE = Tolerance(rel=0.05)


class PythonEnv(Strict):
    requirements: BundlePath | None = None

    @field_validator("requirements")
    @classmethod
    def _requirements_path(cls, v: str | None) -> str | None:
        return v if v is None else _relative_path(v)


class Paper(Strict):
    id: StrictStr | None = None
    title: StrictStr | None = None
    doi: StrictStr | None = None
    url: StrictStr | None = None
    authors: list[StrictStr] | None = None


class Limits(Strict):
    """Run limits a bundle may set, in [defaults] or per claim."""

    timeout_s: Annotated[Number, Field(gt=0, le=24 * 3600)] | None = None
    memory_mb: Annotated[StrictInt, Field(ge=32, le=64 * 1024)] | None = None


class Defaults(Limits):
    tolerance: Tolerance | None = None
    python: PythonEnv | None = None


class LeanSettings(Strict):
    toolchain: StrictStr | None = None
    image: StrictStr | None = None
    allow_axioms: list[StrictStr] = Field(default_factory=list)


class ClaimBase(Strict):
    id: Annotated[StrictStr, Field(pattern=CLAIM_ID_PATTERN)]
    text: StrictStr


class PythonClaim(ClaimBase, Limits):
    kind: Literal["python"]
    script: BundlePath
    inputs: list[BundlePath] = Field(default_factory=list)
    expected: dict[StrictStr, ExpectedValue]
    tolerance: Tolerance | None = None
    python: PythonEnv | None = None
    perturb: StrictBool = True
    perturb_reason: StrictStr | None = None

    @field_validator("script")
    @classmethod
    def _script_path(cls, v: str) -> str:
        return _relative_path(v)

    @field_validator("inputs")
    @classmethod
    def _input_paths(cls, v: list[str]) -> list[str]:
        seen = set()
        for p in v:
            _relative_path(p)
            if p in seen:
                raise ValueError(f"input '{p}' is listed twice")
            seen.add(p)
        return v

    @field_validator("expected")
    @classmethod
    def _expected(cls, v: dict) -> dict:
        if not v:
            raise ValueError("a python claim needs at least one expected value")
        for name, value in v.items():
            if isinstance(value, list) and not value:
                raise PydanticCustomError("empty_list", "expected value '{key}' is an empty list",
                                          {"key": name})
        return v

    @model_validator(mode="after")
    def _perturb_reason(self) -> "PythonClaim":
        # `ctx.key` names the key the error is about, so the loader can point at its line.
        if not self.perturb and not (self.perturb_reason or "").strip():
            raise PydanticCustomError("perturb_reason", "'perturb = false' needs a 'perturb_reason'",
                                      {"key": "perturb"})
        if self.perturb and self.perturb_reason is not None:
            raise PydanticCustomError("perturb_reason",
                                      "'perturb_reason' is only meaningful with 'perturb = false'",
                                      {"key": "perturb_reason"})
        return self


class LeanClaim(ClaimBase, Limits):
    kind: Literal["lean"]
    file: BundlePath
    theorem: StrictStr
    statement: StrictStr

    @field_validator("file")
    @classmethod
    def _file_path(cls, v: str) -> str:
        return _relative_path(v)


class NoneClaim(ClaimBase):
    kind: Literal["none"]


Claim = Annotated[Union[PythonClaim, LeanClaim, NoneClaim], Field(discriminator="kind")]


class Manifest(Strict):
    """The whole ``repro.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="repro-bundle/1")

    schema_: Literal["repro-bundle/1"] = Field(alias="schema")
    paper: Paper | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    lean: LeanSettings | None = None
    claim: list[Claim] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "Manifest":
        seen: set[str] = set()
        for c in self.claim:
            if c.id in seen:
                # The loader reports duplicates itself, with both lines; it drops this one.
                raise PydanticCustomError("duplicate_claim_id", "duplicate claim id '{id}'",
                                          {"id": c.id})
            seen.add(c.id)
        return self
