"""`repro` command line: a thin front-end over :func:`harness.check.check`.

Exit codes (SPEC 5): 0 verified, 1 falsified, 3 unverified or error,
2 invalid bundle or command line (one message per problem, no traceback).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import click

from harness import __version__
from harness.artifact.models import Artifact, ClaimRecord, Verdict
from harness.artifact.reports import junit_xml, markdown
from harness.bundle.manifest import Manifest
from harness.check import ARTIFACT_NAME, CheckOptions, check
from harness.errors import InputError
from harness.fsutil import atomic_write
from harness.verdict import EXIT_CODES, EXIT_INVALID

SCHEMAS = {"bundle": Manifest, "artifact": Artifact}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="repro")
def cli() -> None:
    """Reproduce the claims of a bundle in a sealed sandbox and write an artifact."""


@cli.command("check")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("repro-out"), show_default=True, help="Where the artifact and logs go.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write JUnit XML.")
@click.option("--markdown", "markdown_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a Markdown summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the artifact as JSON on stdout.")
@click.option("--backend", type=click.Choice(["nsjail", "docker"]), default="nsjail", show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Claims run in parallel (default: number of CPUs).")
@click.option("--claim", "claims", multiple=True, help="Check only this claim (repeatable).")
@click.option("--no-perturb", is_flag=True,
              help="Skip the second run on perturbed inputs (claims say 'perturbation-skipped'; "
                   "a claim the static analysis flags still cannot verify).")
def check_command(bundle: Path, out_dir: Path, junit: Path | None, markdown_file: Path | None,
                  as_json: bool, backend: str, jobs: int | None, claims: tuple[str, ...],
                  no_perturb: bool) -> None:
    """Check BUNDLE (a directory, .tar.gz, .tgz or .zip)."""
    _stop_on_sigterm()
    options = CheckOptions(out_dir=out_dir, backend=backend, jobs=jobs or os.cpu_count() or 1,
                           claims=list(claims) or None, perturb=not no_perturb,
                           progress=_progress)
    try:
        artifact = check(bundle, options)
    except InputError as exc:
        for problem in exc.problems:
            click.echo(f"repro: invalid input: {problem}", err=True)
        sys.exit(EXIT_INVALID)
    except KeyboardInterrupt:
        click.echo(f"repro: interrupted; partial artifact in {out_dir / ARTIFACT_NAME}", err=True)
        sys.exit(EXIT_CODES[Verdict.ERROR])
    if junit:
        atomic_write(junit, junit_xml(artifact))
    if markdown_file:
        atomic_write(markdown_file, markdown(artifact))
    if as_json:
        click.echo(artifact.to_json(), nl=False)
    click.echo(f"repro: {artifact.verdict.value} ({_counts(artifact)}); "
               f"artifact: {out_dir / ARTIFACT_NAME}", err=True)
    sys.exit(EXIT_CODES[artifact.verdict])


@cli.command("schema")
@click.argument("which", type=click.Choice(sorted(SCHEMAS)))
def schema_command(which: str) -> None:
    """Print the JSON Schema of the bundle manifest or of the artifact."""
    mode = "serialization" if which == "artifact" else "validation"
    schema = SCHEMAS[which].model_json_schema(by_alias=True, mode=mode)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    click.echo(json.dumps(schema, indent=2))


def _progress(done: int, total: int, record: ClaimRecord) -> None:
    if total > 1:
        click.echo(f"[{done}/{total}] {record.id}: {record.verdict.value}", err=True)


def _counts(artifact: Artifact) -> str:
    return ", ".join(f"{n} {v}" for v, n in artifact.summary.items() if n) or "no claims"


def _stop_on_sigterm() -> None:
    """SIGTERM (a CI cancel, a worker shutdown) stops like Ctrl-C: the artifact is still written."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
