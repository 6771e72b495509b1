"""What does the void-evidence check cost?

Run as root (the nsjail backend needs it):

    .venv/bin/python bench/perturbation.py [--claims 20] [--reps 3]

One run measures, as medians of wall-clock times:

(a) ``repro check`` of a generated bundle of --claims data claims (each reads a
    small CSV and reports its mean), with ``--no-perturb`` and with the
    perturbation run, at ``--jobs 1`` and ``--jobs 2``.  The perturbation run is a
    second sealed run per data claim, so with ``--jobs 1`` the expected cost is
    about 2x; with ``--jobs 2`` the perturbed run of one claim overlaps other runs.
(b) the static analysis alone, per script, over every script of
    tests/evidence_corpus (no sandbox).

Printed as a table; the JSON summary goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCRIPT = """\
import csv, json, os
with open("data/scores.csv", newline="") as f:
    rows = list(csv.DictReader(f))
mean = sum(float(r["score"]) for r in rows) / len(rows)
with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"mean": mean}, f)
"""
DATA = "task,score\n" + "".join(f"t{i},{40 + i * 1.5:.1f}\n" for i in range(12))
CLAIM = """
[[claim]]
id = "c{i:03d}"
text = "The mean score is 48.25"
kind = "python"
script = "repro/mean.py"
inputs = ["data/scores.csv"]
expected = {{ mean = 48.25 }}
"""


def make_bundle(root: Path, claims: int) -> Path:
    (root / "repro").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "repro" / "mean.py").write_text(SCRIPT)
    (root / "data" / "scores.csv").write_text(DATA)
    (root / "repro.toml").write_text('schema = "repro-bundle/1"\n[defaults]\ntimeout_s = 30\n'
                                     + "".join(CLAIM.format(i=i) for i in range(claims)))
    return root


def check_time(bundle: Path, out: Path, *args: str) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "harness.cli", "check", str(bundle), "--out",
                           str(out), *args], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"bench: repro check {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return elapsed


def static_times() -> list[float]:
    import tomllib

    from harness.bundle.manifest import Tolerance
    from harness.evidence.static import analyze_script
    times = []
    for manifest in sorted((ROOT / "tests" / "evidence_corpus").glob("*/repro.toml")):
        for claim in tomllib.loads(manifest.read_text()).get("claim", []):
            if claim.get("kind") != "python":
                continue
            start = time.perf_counter()
            analyze_script(manifest.parent, claim["script"], claim["expected"],
                           claim.get("inputs", []), Tolerance(rel=0.05))
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="repro-bench-"))
    scratch.chmod(0o755)
    try:
        bundle = make_bundle(scratch / "bundle", args.claims)
        variants = {f"--jobs {j}{' --no-perturb' if not p else ''}": (j, p)
                    for j in (1, 2) for p in (False, True)}
        samples: dict[str, list[float]] = {k: [] for k in variants}
        check_time(bundle, scratch / "warm", "--jobs", "2")
        for _ in range(args.reps):        # round robin: machine noise hits every variant alike
            for label, (jobs, perturb) in variants.items():
                extra = [] if perturb else ["--no-perturb"]
                samples[label].append(check_time(bundle, scratch / "out", "--jobs", str(jobs), *extra))
        static = static_times()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in samples.items()}
    n = args.claims
    print(f"bench: {n} data claims, {args.reps} reps each (median wall time of `repro check`)\n")
    print(f"{'variant':<26} {'s':>7} {'ms/claim':>9}  vs no-perturb")
    print("-" * 56)
    for jobs in (1, 2):
        base = med[f"--jobs {jobs} --no-perturb"]
        for label in (f"--jobs {jobs} --no-perturb", f"--jobs {jobs}"):
            print(f"{label:<26} {med[label]:>7.2f} {med[label] / n * 1000:>9.1f}  "
                  f"{med[label] / base:>6.2f}x")
    print()
    print(f"static analysis:  median {statistics.median(static) * 1000:.1f} ms per script, "
          f"max {max(static) * 1000:.1f} ms, over {len(static)} corpus scripts")
    print(f"--jobs 2 vs --jobs 1 with perturbation: {med['--jobs 1'] / med['--jobs 2']:.2f}x faster")
    print(json.dumps({"claims": n, "median_s": med,
                      "static_ms_median": statistics.median(static) * 1000,
                      "static_ms_max": max(static) * 1000}), file=sys.stderr)


if __name__ == "__main__":
    main()
