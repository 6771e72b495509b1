"""No result is ever lost: stopping `repro check` still leaves a complete, valid artifact."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import sandbox_processes

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.sandbox


def write_bundle(root: Path) -> None:
    root.mkdir()
    (root / "fast.py").write_text(
        "import json, os\njson.dump({'x': 3 * 7}, open(os.environ['REPRO_OUT'] + '/result.json', 'w'))\n")
    (root / "slow.py").write_text("import time\ntime.sleep(60)\n")
    (root / "repro.toml").write_text(
        'schema = "repro-bundle/1"\n'
        '[[claim]]\nid = "fast"\ntext = "quick"\nkind = "python"\nscript = "fast.py"\n'
        'expected = { x = 21 }\n'
        '[[claim]]\nid = "slow"\ntext = "sleeps"\nkind = "python"\nscript = "slow.py"\n'
        'expected = { x = 1 }\ntimeout_s = 60\n')


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopped_check_writes_final_artifact(tmp_path, signum):
    bundle, out = tmp_path / "bundle", tmp_path / "out"
    write_bundle(bundle)
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "check", str(bundle),
                             "--out", str(out), "--jobs", "2"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    artifact_path = out / "repro-artifact.json"
    deadline = time.monotonic() + 30
    # wait until the fast claim is recorded (the snapshot shows it) and the slow one runs
    while time.monotonic() < deadline:
        if artifact_path.exists() and '"fast"' in artifact_path.read_text():
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the in-progress artifact never showed the finished claim")
    assert json.loads(artifact_path.read_text())["complete"] is False
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert "Traceback" not in stderr
    artifact = json.loads(artifact_path.read_text())
    verdicts = {c["id"]: (c["verdict"], c["reason"]) for c in artifact["claims"]}
    assert verdicts["fast"][0] == "verified"
    assert verdicts["slow"][0] == "error"
    assert "interrupted" in verdicts["slow"][1]
    assert artifact["complete"] is False
    time.sleep(0.5)
    assert sandbox_processes() == [], "a sandboxed process outlived repro"


def test_artifact_is_replaced_atomically(tmp_path):
    """A reader polling the artifact during a run only ever sees valid JSON."""
    bundle, out = tmp_path / "bundle", tmp_path / "out"
    bundle.mkdir()
    claims = []
    for i in range(12):
        (bundle / f"c{i}.py").write_text(
            "import json, os\njson.dump({'x': 3 * 7}, open(os.environ['REPRO_OUT'] + '/result.json', 'w'))\n")
        claims.append(f'[[claim]]\nid = "c{i}"\ntext = "t"\nkind = "python"\nscript = "c{i}.py"\n'
                      'expected = { x = 21 }\n')
    (bundle / "repro.toml").write_text('schema = "repro-bundle/1"\n' + "".join(claims))
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "check", str(bundle),
                             "--out", str(out), "--jobs", "1"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = 0
    while proc.poll() is None:
        path = out / "repro-artifact.json"
        if path.exists():
            json.loads(path.read_text())   # raises on a half-written file
            seen += 1
        time.sleep(0.01)
    assert proc.returncode == 0
    final = json.loads((out / "repro-artifact.json").read_text())
    assert final["complete"] is True and len(final["claims"]) == 12
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def _leftovers(pid: int) -> list[str]:
    from harness.sandbox.nsjail import CGROUP_PARENT, CGROUP_V1, RUN_PREFIX
    prefix = f"{RUN_PREFIX}{pid}-"
    found = [str(p) for c in ("pids", "memory")
             for p in (CGROUP_V1 / c / CGROUP_PARENT).glob(f"{prefix}*")]
    found += [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
              if prefix in line]
    return found


def test_runs_of_a_killed_repro_are_reaped_by_the_next_one(tmp_path):
    """SIGKILL gives repro no chance to clean up; the next backend start does it."""
    from harness.sandbox.nsjail import NsjailBackend

    bundle, out = tmp_path / "bundle", tmp_path / "out"
    write_bundle(bundle)
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "check", str(bundle),
                             "--out", str(out), "--claim", "slow"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not _leftovers(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _leftovers(proc.pid), "the run never started"
    time.sleep(0.3)
    proc.kill()
    proc.wait()
    assert _leftovers(proc.pid), "nothing was left behind: the test proves nothing"
    NsjailBackend()   # starting a backend reaps runs whose owner is dead
    assert _leftovers(proc.pid) == []
    time.sleep(0.3)
    assert sandbox_processes() == []
