"""How often would the perturbation check call an honest claim input-insensitive?

    .venv/bin/python bench/perturbation_false_positives.py [--seeds 20]

For every honest data claim (the honest cases of tests/evidence_corpus and the
verified examples in repro_examples), with --seeds different seeds: perturb its
inputs ("scale", then "resample" if needed, as the harness does), run the
script with the sandbox's interpreter *outside* the sandbox (these are the
project's own honest scripts; no sandbox needed to measure the perturbation),
and count the (claim, seed) pairs where some value did not move beyond the
claim's tolerance in either attempt.  Prints the flagged pairs and a summary line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.bundle.manifest import Tolerance  # noqa: E402
from harness.compare import compare  # noqa: E402
from harness.evidence.perturb import MODES, perturb_bundle  # noqa: E402


def honest_bundles() -> list[Path]:
    index = tomllib.loads((ROOT / "tests/evidence_corpus/cases.toml").read_text())
    corpus = [ROOT / "tests/evidence_corpus" / name for name, e in index.items() if e["honest"]]
    examples = [p.parent for p in sorted((ROOT / "repro_examples").glob("*/repro.toml"))
                if p.parent.name not in ("hardcoded-mean-gain", "falsified-xquad-gain")]
    return corpus + examples


def run(bundle: Path, script: str) -> dict | None:
    out = Path(tempfile.mkdtemp())
    try:
        done = subprocess.run(["/usr/bin/python3", "-B", script], cwd=bundle, capture_output=True,
                              env={"REPRO_OUT": str(out), "PYTHONPATH": str(bundle),
                                   "PATH": "/usr/bin:/bin"}, timeout=60)
        if done.returncode != 0 or not (out / "result.json").is_file():
            return None
        return json.loads((out / "result.json").read_text())
    finally:
        shutil.rmtree(out, ignore_errors=True)


def moved(name: str, original, perturbed, tolerance: Tolerance) -> bool:
    if perturbed is None or name not in perturbed:
        return True
    value = perturbed[name]
    if value == original[name]:
        return False
    if isinstance(original[name], (int, float, list)) and not isinstance(original[name], bool):
        return not compare(name, original[name], value, tolerance).ok
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    seeds = parser.parse_args().seeds
    pairs = flagged = 0
    for bundle in honest_bundles():
        manifest = tomllib.loads((bundle / "repro.toml").read_text())
        default = manifest.get("defaults", {}).get("tolerance") or {"rel": 0.05}
        for claim in manifest["claim"]:
            if claim.get("kind") != "python" or not claim.get("inputs"):
                continue
            tolerance = Tolerance(**(claim.get("tolerance") or default))
            original = run(bundle, claim["script"])
            if original is None:
                continue          # scripts that need the sandbox's layout (none expected)
            for seed in range(seeds):
                still = set(claim["expected"])
                for attempt, mode in enumerate(MODES):
                    work = Path(tempfile.mkdtemp())
                    try:
                        perturb_bundle(bundle, claim["inputs"], work / "b", seed * 7 + attempt, mode)
                        result = run(work / "b", claim["script"])
                    finally:
                        shutil.rmtree(work, ignore_errors=True)
                    still = {n for n in still if not moved(n, original, result, tolerance)}
                    if not still:
                        break
                pairs += 1
                if still:
                    flagged += 1
                    print(f"flagged: {bundle.name} {claim['id']} seed {seed}: {sorted(still)}")
    print(f"honest (claim, seed) pairs flagged input-insensitive: {flagged} of {pairs}")


if __name__ == "__main__":
    main()
