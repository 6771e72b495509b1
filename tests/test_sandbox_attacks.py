"""Hostile scripts against the real nsjail sandbox: one test per attack.

Each test runs an attack through ``NsjailBackend.run`` (or, for a few, through
the whole ``repro check`` command) and asserts what the *host* sees: the
listener that accepted nothing, the secret that never appears, the status a
limit is reported as, the processes, mounts and cgroups left behind (none).
Scripts report what they could do as one JSON line on stdout.

Every sandbox here runs with a host uid of its own (``sandbox_host_uid``), so
"no process of the sandbox uid is left" is exact even while other runs use the
machine.  Limits are small (seconds, 128 MiB) to keep the file fast.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness.sandbox.base import SANDBOX_ENV, Limits, RunStatus
from harness.sandbox.nsjail import (CGROUP_PARENT, CGROUP_V1, OUT_MAX_INODES, SANDBOX_UID,
                                    NsjailBackend)

from conftest import REPO, sandbox_processes

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("sandbox_host_uid")]

MiB = 1024 * 1024
FAST = dict(timeout_s=5, memory_mb=128)


def host_uid() -> int:
    import harness.sandbox.nsjail as nsjail_backend
    return nsjail_backend.HOST_UID


def assert_nothing_left(run_names: list[str] = ()) -> None:
    """No live process of the sandbox uid, no mount or cgroup of the given runs."""
    assert sandbox_processes(host_uid()) == [], "a sandboxed process outlived its run"
    mounts = Path("/proc/self/mounts").read_text()
    for name in run_names:
        assert name not in mounts, f"the $REPRO_OUT tmpfs of {name} is still mounted"
        for controller in ("memory", "pids"):
            assert not (CGROUP_V1 / controller / CGROUP_PARENT / name).exists(), \
                f"cgroup {controller}/{CGROUP_PARENT}/{name} was left behind"


class ProcessSampler(threading.Thread):
    """Poll the host's process table for the sandbox uid while a run is in progress."""

    def __init__(self, uid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.uid, self.interval = uid, interval
        self.peak = 0
        self.seen: set[int] = set()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = sandbox_processes(self.uid)
            self.peak = max(self.peak, len(pids))
            self.seen.update(pids)
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


def wait_for(predicate, timeout: float = 10, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting for the sandbox")


# -- 1. network ---------------------------------------------------------------------

def _host_addresses() -> list[str]:
    """The host's outward-facing IPv4 address, if it has one (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        return [probe.getsockname()[0]]
    except OSError:
        return []
    finally:
        probe.close()


def test_network_reaches_nothing_on_the_host(run_in_sandbox):
    listeners = []
    tcp4 = socket.create_server(("127.0.0.1", 0))
    any4 = socket.create_server(("0.0.0.0", 0))
    listeners += [tcp4, any4]
    targets = [["127.0.0.1", tcp4.getsockname()[1]], ["0.0.0.0", tcp4.getsockname()[1]],
               ["127.0.0.1", any4.getsockname()[1]], ["0.0.0.0", any4.getsockname()[1]]]
    targets += [[ip, any4.getsockname()[1]] for ip in _host_addresses()]
    targets.append(["::1", tcp4.getsockname()[1]])
    if socket.has_ipv6:
        try:
            tcp6 = socket.create_server(("::1", 0), family=socket.AF_INET6)
            listeners.append(tcp6)
            targets.append(["::1", tcp6.getsockname()[1]])
        except OSError:
            pass
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    for s in (*listeners, udp):
        s.setblocking(False)
    try:
        run = run_in_sandbox("""
            import json, os, socket
            targets = json.load(open("/bundle/targets.json"))
            tcp = {}
            for host, port in targets["tcp"]:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                s = socket.socket(family, socket.SOCK_STREAM)
                s.settimeout(2)
                try:
                    s.connect((host, port))
                    tcp[f"{host}:{port}"] = "connected"
                except OSError as e:
                    tcp[f"{host}:{port}"] = e.__class__.__name__
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.sendto(b"hello", ("127.0.0.1", targets["udp"]))
            except OSError:
                pass
            try:
                socket.getaddrinfo("example.com", 80)
                dns = "resolved"
            except OSError as e:
                dns = e.__class__.__name__
            ifaces = [line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:]]
            sys_net = os.listdir("/sys/class/net") if os.path.isdir("/sys/class/net") else None
            print(json.dumps({"tcp": tcp, "dns": dns, "ifaces": ifaces, "sys_net": sys_net}))
        """, files={"targets.json": json.dumps({"tcp": targets, "udp": udp.getsockname()[1]})},
            **FAST)
        report = run.report()
        assert run.result.status is RunStatus.EXITED and run.result.exit_code == 0, run.stderr
        assert set(report["tcp"]) == {f"{h}:{p}" for h, p in targets}
        assert "connected" not in report["tcp"].values(), report["tcp"]
        assert report["dns"] != "resolved"
        assert report["ifaces"] == ["lo"], "the jail must have a loopback interface only"
        assert report["sys_net"] in (None, ["lo"])
        for listener in listeners:
            with pytest.raises(BlockingIOError):
                listener.accept()
        with pytest.raises(BlockingIOError):
            udp.recvfrom(100)
    finally:
        for s in (*listeners, udp):
            s.close()


def test_abstract_unix_sockets_of_the_host_are_unreachable(run_in_sandbox):
    """Abstract sockets (X11, D-Bus) are per network namespace: the host's are not there."""
    name = f"repro-test-{secrets.token_hex(6)}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0" + name)
    server.listen()
    server.setblocking(False)
    try:
        run = run_in_sandbox(f"""
            import json, socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect("\\0{name}")
                print(json.dumps({{"result": "connected"}}))
            except OSError as e:
                print(json.dumps({{"result": e.__class__.__name__}}))
        """, **FAST)
        assert run.report()["result"] != "connected"
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()


# -- 2. host files ------------------------------------------------------------------

@pytest.fixture
def root_secret():
    """A secret file under /root, removed afterwards."""
    secret = f"REPRO-SECRET-{secrets.token_hex(16)}"
    directory = Path("/root") / f"repro-sandbox-test-{secrets.token_hex(4)}"
    directory.mkdir(parents=True)
    (directory / "secret.txt").write_text(secret)
    try:
        yield directory / "secret.txt", secret
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_host_files_are_not_readable(run_in_sandbox, root_secret):
    secret_file, secret = root_secret
    probes = [str(secret_file), str(secret_file.parent), "/root", "/home", "/etc/shadow",
              "/var/run/docker.sock", "/run/docker.sock", "/run", "/var", "/usr/local",
              "/sys", "/boot", "/work", str(REPO), str(REPO / "pyproject.toml"),
              str(REPO / "harness" / "sandbox" / "nsjail.py"), f"/proc/1/root{secret_file}",
              f"/proc/self/root{REPO}/pyproject.toml", f"/bundle/../root/{secret_file.name}"]
    run = run_in_sandbox("""
        import json, os
        probes = json.load(open("/bundle/probes.json"))
        seen = {}
        for path in probes:
            try:
                if os.path.isdir(path):
                    seen[path] = "listed: " + ",".join(sorted(os.listdir(path)))
                else:
                    with open(path, "rb") as f:
                        seen[path] = "read: " + f.read(4096).decode("latin-1")
            except OSError as e:
                seen[path] = e.__class__.__name__
        # everything the jail can see outside the runtime and /proc, read in full
        found = {}
        for top in sorted(os.listdir("/")):
            if top in ("usr", "proc", "dev", "lib", "lib64", "bin", "sbin"):
                continue
            for root, dirs, files in os.walk("/" + top):
                for name in files:
                    path = os.path.join(root, name)
                    try:
                        with open(path, "rb") as f:
                            found[path] = f.read(1 << 20).decode("latin-1")
                    except OSError as e:
                        found[path] = e.__class__.__name__
        print(json.dumps({"probes": seen, "root": sorted(os.listdir("/")), "found": found}))
    """, files={"probes.json": json.dumps(probes)}, **FAST)
    report = run.report()
    assert run.result.status is RunStatus.EXITED and run.result.exit_code == 0, run.stderr
    assert secret not in run.stdout + run.stderr
    for path, outcome in report["probes"].items():
        assert outcome in ("FileNotFoundError", "PermissionError", "NotADirectoryError"), \
            f"{path} is visible in the sandbox: {outcome[:200]}"
    assert set(report["root"]) <= {"bundle", "out", "tmp", "dev", "proc", "etc", "usr",
                                   "bin", "lib", "lib32", "lib64", "libx32", "sbin"}, report["root"]
    assert set(report["found"]) <= {"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/ld.so.cache",
                                    "/bundle/main.py", "/bundle/probes.json"}, sorted(report["found"])
    assert "root:x:0:0::/nonexistent" in report["found"]["/etc/passwd"], "host /etc/passwd leaked"


def test_host_processes_are_not_visible_and_hostname_is_the_jails(run_in_sandbox):
    run = run_in_sandbox("""
        import json, os, socket
        print(json.dumps({"pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
                          "me": os.getpid(), "hostname": socket.gethostname()}))
    """, **FAST)
    report = run.report()
    assert report["pids"] == ["1"] and report["me"] == 1, report
    assert report["hostname"] == "repro" != socket.gethostname()


def test_host_process_of_the_same_uid_cannot_be_signalled(run_in_sandbox):
    """Even a host process running as the sandbox's own host uid is out of reach."""
    uid = host_uid()
    victim = subprocess.Popen(["sleep", "30"], user=uid, group=uid)
    try:
        run = run_in_sandbox(f"""
            import json, os
            results = {{}}
            for pid in ({victim.pid}, -1):
                try:
                    os.kill(pid, 9)
                    results[pid] = "sent"
                except OSError as e:
                    results[pid] = e.__class__.__name__
            print(json.dumps(results))
        """, **FAST)
        assert run.report()[str(victim.pid)] == "ProcessLookupError"
        assert victim.poll() is None, "the sandbox killed a host process"
    finally:
        victim.kill()
        victim.wait()


def test_no_host_file_descriptor_is_inherited(run_in_sandbox, root_secret):
    """An inherited descriptor of a host file or directory would be a way out (openat, fchdir)."""
    secret_file, secret = root_secret
    leaked = [os.open(secret_file, os.O_RDONLY), os.open("/root", os.O_RDONLY | os.O_DIRECTORY)]
    for fd in leaked:
        os.set_inheritable(fd, True)
    try:
        run = run_in_sandbox("""
            import json, os
            fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
            targets = {}
            for fd in fds:
                try:
                    targets[fd] = os.readlink(f"/proc/self/fd/{fd}")
                except OSError as e:
                    targets[fd] = e.__class__.__name__
            print(json.dumps({"fds": fds, "targets": targets,
                              "stdin": os.readlink("/proc/self/fd/0")}))
        """, **FAST)
    finally:
        for fd in leaked:
            os.close(fd)
    report = run.report()
    assert set(report["fds"]) - {0, 1, 2} <= {3}, report      # 3: the listing's own handle
    assert report["stdin"] == "/dev/null"
    assert secret not in run.stdout and "/root" not in json.dumps(report["targets"])


# -- 3. environment -----------------------------------------------------------------

def test_host_environment_is_invisible(run_in_sandbox, monkeypatch):
    sentinel = f"REPRO-ENV-{secrets.token_hex(12)}"
    monkeypatch.setenv("REPRO_TEST_HOST_SECRET", sentinel)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", sentinel)
    run = run_in_sandbox("""
        import json, os
        print(json.dumps({"env": dict(os.environ),
                          "proc": open("/proc/self/environ", "rb").read().decode("latin-1"),
                          "proc1": open("/proc/1/environ", "rb").read().decode("latin-1")}))
    """, **FAST)
    report = run.report()
    assert sentinel not in run.stdout + run.stderr
    assert report["env"] == SANDBOX_ENV
    env = report["env"]
    assert (env["PYTHONHASHSEED"], env["TZ"], env["LC_ALL"], env["REPRO_OUT"]) == \
        ("0", "UTC", "C.UTF-8", "/out")
    assert env["HOME"] == "/tmp" or env["HOME"].startswith("/tmp/")


# -- 4. writes ----------------------------------------------------------------------

def test_writes_outside_out_and_tmp_fail(run_in_sandbox):
    run = run_in_sandbox("""
        import json, os
        results = {}
        def attempt(path, mode="w"):
            try:
                with open(path, mode) as f:
                    f.write("PWN" + "ED")
                results[path] = "written"
            except OSError as e:
                results[path] = e.__class__.__name__
        for path in ["/bundle/new.txt", "/bundle/main.py", "/new.txt", "/usr/new.txt",
                     "/usr/bin/new", "/etc/new.txt", "/lib/new.so", "/dev/new",
                     "/proc/new", "/out/result.json", "/tmp/x", os.environ["HOME"] + "/.rc",
                     "/dev/shm/x"]:
            attempt(path)
        attempt("/etc/passwd", "a")
        for target in ["/bundle", "/usr/bin", "/"]:
            try:
                os.mkdir(target + "/newdir")
                results["mkdir " + target] = "made"
            except OSError as e:
                results["mkdir " + target] = e.__class__.__name__
        print(json.dumps(results))
    """, **FAST)
    report = run.report()
    allowed = {"/out/result.json", "/tmp/x", "/tmp/.rc", "/dev/shm/x"}
    for path, outcome in report.items():
        if path in allowed:
            assert outcome == "written", (path, outcome)
        else:
            assert outcome in ("OSError", "PermissionError", "FileNotFoundError"), (path, outcome)
    assert sorted(p.name for p in run.bundle.iterdir()) == ["main.py"]
    assert "PWNED" not in (run.bundle / "main.py").read_text()
    assert (run.collected / "result.json").read_text() == "PWNED"


# -- 5. fork bomb -------------------------------------------------------------------

def test_fork_bomb_is_contained_and_leaves_nothing(run_in_sandbox, sandbox_tmp):
    backend = NsjailBackend(workdir=sandbox_tmp)
    limits = dict(timeout_s=3, memory_mb=256, pids=32)
    sampler = ProcessSampler(host_uid())
    names: list[str] = []
    sampler.start()
    watcher = threading.Thread(target=lambda: names.extend(
        wait_for(lambda: [p.name for p in sandbox_tmp.glob("repro-run-*")])), daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        run = run_in_sandbox("""
            import os, time
            while True:
                try:
                    os.fork()
                except OSError:
                    time.sleep(0.001)
        """, backend=backend, **limits)
    finally:
        sampler.stop()
    elapsed = time.monotonic() - started
    result = run.result
    assert result.status is RunStatus.TIMEOUT, (result.status, result.detail)
    assert "process" in result.detail and "32" in result.detail, result.detail
    assert elapsed < limits["timeout_s"] + 3
    assert 10 <= sampler.peak <= limits["pids"], f"peak of {sampler.peak} jailed processes"
    watcher.join(1)
    assert names, "never saw the run's work directory"
    assert_nothing_left(names)


def test_naive_fork_bomb_is_an_error_through_the_cli(write_bundle, run_repro_check):
    bundle = write_bundle("""
        import os
        while True:
            os.fork()
    """, timeout_s=3, memory_mb=256)
    started = time.monotonic()
    cli = run_repro_check(bundle)
    assert time.monotonic() - started < 15
    assert cli.returncode == 3, cli.stderr
    claim = cli.claim()
    assert claim["verdict"] == "error", claim["reason"]
    assert sandbox_processes(host_uid()) == []


# -- 6. memory bomb -----------------------------------------------------------------

@pytest.mark.parametrize("bomb", [
    "chunks = []\nwhile True:\n    chunks.append(bytearray(8 << 20))",
    "x = bytearray(1 << 30)",
    "import subprocess, sys\nsys.exit(subprocess.run([sys.executable, '-c', "
    "'x = bytearray(1 << 30)']).returncode)",
], ids=["chunks", "one-gib", "in-a-child"])
def test_memory_bomb_is_out_of_memory(run_in_sandbox, bomb):
    started = time.monotonic()
    run = run_in_sandbox(bomb, timeout_s=10, memory_mb=128)
    elapsed = time.monotonic() - started
    result = run.result
    assert result.status is RunStatus.OUT_OF_MEMORY, (result.status, result.detail)
    assert "128 MiB" in result.detail
    if "subprocess" in bomb:
        # the kernel kills the child (the biggest process); the parent exits 247
        # (sys.exit(-9)); the peak of the run's cgroup still names the cause
        assert result.exit_code == 247
    assert elapsed < 5, f"an OOM took {elapsed:.1f} s (a time-out in disguise?)"
    assert result.peak_memory_bytes is None or result.peak_memory_bytes <= 130 * MiB


def test_memory_bomb_through_the_cli_names_the_limit(write_bundle, run_repro_check):
    bundle = write_bundle("chunks = []\nwhile True:\n    chunks.append(bytearray(8 << 20))\n",
                          timeout_s=10, memory_mb=128)
    cli = run_repro_check(bundle)
    assert cli.returncode == 3
    claim = cli.claim()
    assert claim["verdict"] == "error"
    assert claim["run"]["status"] == "out-of-memory"
    assert "out-of-memory" in claim["reason"] and "128 MiB" in claim["reason"], claim["reason"]


# -- 7. time-outs -------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "while True:\n    pass",
    "import time\ntime.sleep(60)",
    "import signal, time\nsignal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals))\n"
    "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n    signal.signal(s, signal.SIG_IGN)\n"
    "time.sleep(60)",
], ids=["busy-loop", "sleep", "sleep-ignoring-signals"])
def test_endless_script_is_a_timeout_not_oom(run_in_sandbox, source):
    run = run_in_sandbox(source, timeout_s=3, memory_mb=128)
    result = run.result
    assert result.status is RunStatus.TIMEOUT, (result.status, result.detail)
    assert "3 s" in result.detail
    assert 2.9 <= result.duration_s < 3 + 2.5, result.duration_s


def test_threads_using_several_cpus_are_not_killed_before_the_wall_clock_limit(run_in_sandbox):
    """CPU time of parallel threads grows faster than wall time: that is not a time-out.

    (A CPU-time rlimit of timeout+1 s used to SIGKILL this at about half the
    wall-clock limit, reported as a bare "killed by signal SIGKILL".)
    """
    run = run_in_sandbox("""
        import hashlib, json, threading, time, os
        data = b"x" * (32 << 20)
        stop = time.monotonic() + 4
        def burn():
            while time.monotonic() < stop:
                hashlib.sha256(data).digest()   # releases the GIL
        threads = [threading.Thread(target=burn) for _ in range(max(2, os.cpu_count() or 1))]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps({"cpu_s": sum(os.times()[:2])}))
    """, timeout_s=5, memory_mb=256)
    result = run.result
    assert result.status is RunStatus.EXITED and result.exit_code == 0, \
        (result.status, result.detail, result.duration_s)


def test_timeout_through_the_cli(write_bundle, run_repro_check):
    cli = run_repro_check(write_bundle("import time\ntime.sleep(60)\n", timeout_s=2))
    assert cli.returncode == 3
    claim = cli.claim()
    assert claim["verdict"] == "error" and claim["run"]["status"] == "timeout"
    assert "timeout" in claim["reason"] and "2 s" in claim["reason"], claim["reason"]


# -- 8. disk filler -----------------------------------------------------------------

def test_disk_filler_hits_enospc_inside_and_spares_the_host(run_in_sandbox, sandbox_tmp):
    free_before = shutil.disk_usage(sandbox_tmp).free
    run = run_in_sandbox("""
        import json, os
        report = {}
        for d in ["/out", "/tmp", "/dev/shm"]:
            written = 0
            try:
                with open(d + "/fill", "wb") as f:
                    while True:
                        f.write(b"\\0" * (1 << 20))
                        f.flush()
                        written += 1 << 20
            except OSError as e:
                report[d] = [written, __import__("errno").errorcode[e.errno]]
        print(json.dumps(report))
    """, timeout_s=10, memory_mb=256, out_mb=8, tmp_mb=16)
    result = run.result
    assert result.status is RunStatus.EXITED and result.exit_code == 0, (result.status, run.stderr)
    report = run.report()
    assert report["/out"][1] == "ENOSPC" and report["/out"][0] <= 8 * MiB
    assert report["/tmp"][1] in ("ENOSPC", "EFBIG") and report["/tmp"][0] <= 16 * MiB
    assert report["/dev/shm"][1] == "ENOSPC" and report["/dev/shm"][0] <= 16 * MiB
    collected = sum(p.stat().st_size for p in run.collected.rglob("*") if p.is_file())
    assert collected <= 8 * MiB
    assert free_before - shutil.disk_usage(sandbox_tmp).free < 64 * MiB


def test_disk_filler_through_the_cli_is_an_error_that_says_so(write_bundle, run_repro_check):
    bundle = write_bundle("""
        with open("/out/fill", "wb") as f:
            while True:
                f.write(b"\\0" * (1 << 20))
                f.flush()
    """, timeout_s=10)
    cli = run_repro_check(bundle)
    assert cli.returncode == 3
    claim = cli.claim()
    assert claim["verdict"] == "error"
    assert "No space left on device" in claim["reason"], claim["reason"]


def test_sparse_deep_and_many_files_in_out_cost_the_host_nothing(run_in_sandbox):
    """$REPRO_OUT is copied to the host after the run: the copy is bounded like the tmpfs.

    Sparse files used to be copied at their apparent size (50 x 60 MiB of holes
    on a 8 MiB tmpfs: 3 GiB on the host disk), a million empty files to a
    million host inodes, and a directory nest deeper than PATH_MAX made the
    backend raise instead of returning a result.
    """
    run = run_in_sandbox("""
        import json, os
        with open("/out/result.json", "w") as f:
            f.write('{"x": 1}')
        os.mkfifo("/out/fifo")
        os.symlink("/etc/shadow", "/out/shadow")
        os.symlink("/", "/out/rootdir")
        made = {"sparse": 0, "files": 0, "depth": 0}
        for i in range(50):
            try:
                with open(f"/out/sparse{i}", "wb") as f:
                    f.truncate(60 << 20)
                made["sparse"] += 1
            except OSError:
                break
        os.chdir("/out")
        try:
            for i in range(40):          # deeper than PATH_MAX on the host
                os.mkdir("d" * 250)
                os.chdir("d" * 250)
                made["depth"] += 1
        except OSError:
            pass
        os.mkdir("/out/many")
        for i in range(100000):
            try:
                open(f"/out/many/{i}", "w").close()
                made["files"] += 1
            except OSError as e:
                made["stopped"] = e.strerror
                break
        print(json.dumps(made))
    """, timeout_s=20, memory_mb=512, out_mb=8)
    result = run.result
    assert result.status is RunStatus.EXITED and result.exit_code == 0, (result.status, run.stderr)
    made = run.report()
    assert made["sparse"] == 50 and made["depth"] == 40
    assert made["files"] <= OUT_MAX_INODES and made["stopped"] == "No space left on device"
    entries = list(run.collected.rglob("*"))
    assert sum(p.lstat().st_size for p in entries if p.is_file()) <= 8 * MiB
    assert len(entries) <= OUT_MAX_INODES
    assert not any(p.is_symlink() or not (p.is_file() or p.is_dir()) for p in entries)
    assert (run.collected / "result.json").read_text() == '{"x": 1}'
    assert "not copied from $REPRO_OUT" in result.sandbox_log


def test_result_json_linked_to_a_host_file_is_not_followed(run_in_sandbox, root_secret):
    """$REPRO_OUT is read on the host: a symlink there must not make the host read its target."""
    secret_file, secret = root_secret
    run = run_in_sandbox(f"""
        import os
        os.symlink({str(secret_file)!r}, "/out/result.json")
        os.mkdir("/out/sub")
        os.symlink("/root", "/out/sub/root")
        try:
            os.link("/bundle/main.py", "/out/hard")
        except OSError as e:
            print(e.strerror)
    """, **FAST)
    assert run.result.status is RunStatus.EXITED and run.result.exit_code == 0, run.stderr
    assert not (run.collected / "result.json").exists()
    assert not (run.collected / "result.json").is_symlink()
    assert not (run.collected / "sub" / "root").is_symlink()
    assert not (run.collected / "hard").exists()
    assert all(secret not in p.read_text(errors="replace")
               for p in run.collected.rglob("*") if p.is_file())


# -- 9. output flood ----------------------------------------------------------------

@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_flood_is_cut_and_bounded(run_in_sandbox, stream):
    fd = 1 if stream == "stdout" else 2
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    run = run_in_sandbox(f"""
        import os
        chunk = b"A" * (1 << 20)
        for _ in range(200):
            os.write({fd}, chunk)
    """, timeout_s=10, memory_mb=128)
    elapsed = time.monotonic() - started
    result = run.result
    captured = getattr(result, stream)
    assert result.status is RunStatus.OUTPUT_LIMIT, (result.status, result.detail)
    assert stream in result.detail
    limit = Limits().output_bytes
    assert limit < captured.total <= 200 * MiB
    assert len(captured.head) + len(captured.tail) <= 2 * 64 * 1024
    assert captured.truncated
    assert elapsed < 10
    rss_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert rss_growth_kib < 64 * 1024, f"the host grew by {rss_growth_kib} KiB"


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_exactly_at_the_limit_is_kept_and_counted_exactly(run_in_sandbox, stream):
    """nsjail's own start-up warnings share the script's stderr: they must not count.

    (They used to be counted against the limit and subtracted afterwards, so a
    script writing exactly the limit to stderr could be cut as "more than".)
    """
    fd = 1 if stream == "stdout" else 2
    limit = Limits().output_bytes
    run = run_in_sandbox(f"""
        import os
        chunk = b"B" * (1 << 20)
        for _ in range({limit} >> 20):
            os.write({fd}, chunk)
    """, **FAST)
    result = run.result
    assert result.status is RunStatus.EXITED and result.exit_code == 0, \
        (result.status, result.detail)
    captured = getattr(result, stream)
    assert captured.total == limit
    assert set(captured.head) == set(captured.tail) == {ord("B")}


def test_stderr_imitating_the_linker_noise_cannot_escape_the_limit(run_in_sandbox):
    run = run_in_sandbox("""
        import os
        line = b"/x/nsjail: /lib/libnl-3.so.200: no version information available (required)\\n"
        block = line * (65536 // len(line))
        for _ in range(4000):          # ~250 MiB
            os.write(2, block)
    """, timeout_s=10, memory_mb=128)
    assert run.result.status is RunStatus.OUTPUT_LIMIT, (run.result.status, run.result.detail)
    assert run.result.stderr.total > Limits().output_bytes


# -- 10. killing the parent ---------------------------------------------------------

KILL_EVERYTHING = """
    import json, os, signal
    done = {}
    for label, pid in [("ppid", os.getppid()), ("all", -1), ("group", 0)]:
        try:
            os.kill(pid, signal.SIGKILL)
            done[label] = "sent"
        except OSError as e:
            done[label] = e.__class__.__name__
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) != os.getpid():
            try:
                os.kill(int(p), signal.SIGKILL)
                done[p] = "sent"
            except OSError as e:
                done[p] = e.__class__.__name__
    json.dump({"x": 1}, open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w"))
    print(json.dumps(done))
"""


def test_killing_everything_visible_does_not_stop_the_harness(run_in_sandbox):
    run = run_in_sandbox(KILL_EVERYTHING, **FAST)
    assert run.result.status is RunStatus.EXITED, (run.result.status, run.result.detail)
    assert json.loads((run.collected / "result.json").read_text()) == {"x": 1}


def test_killing_everything_through_the_cli_still_writes_the_artifact(write_bundle,
                                                                     run_repro_check):
    bundle = write_bundle(KILL_EVERYTHING, timeout_s=5)
    cli = run_repro_check(bundle)
    artifact = cli.artifact
    assert artifact["schema"] == "repro-artifact/1" and artifact["complete"] is True
    claim = cli.claim()
    assert claim["verdict"] in ("verified", "unverified", "falsified", "error")
    assert cli.returncode == {"verified": 0, "falsified": 1, "unverified": 3, "error": 3}[
        artifact["verdict"]]
    assert claim["run"]["status"] == "exited"


def test_background_processes_die_with_the_run(run_in_sandbox):
    """A daemon the script starts (new session, double fork) does not outlive the run."""
    run = run_in_sandbox("""
        import os, subprocess
        subprocess.Popen(["/bin/sh", "-c", "sleep 30 & sleep 30"], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                import time
                time.sleep(30)
            os._exit(0)
        print("main exits")
    """, **FAST)
    assert run.result.status is RunStatus.EXITED and run.result.exit_code == 0
    assert run.result.duration_s < 3
    assert_nothing_left()


# -- 11. nsjail killed from outside -------------------------------------------------

def test_nsjail_killed_from_outside_returns_promptly_and_leaves_nothing(run_in_sandbox,
                                                                       sandbox_tmp):
    backend = NsjailBackend(workdir=sandbox_tmp)
    outcome: dict = {}

    def go():
        outcome["run"] = run_in_sandbox("import time\ntime.sleep(30)\n", backend=backend,
                                        timeout_s=20, memory_mb=128)

    runner = threading.Thread(target=go)
    runner.start()
    try:
        def find_nsjail():
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    text = status.read_text()
                    cmdline = (status.parent / "cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if (f"PPid:\t{os.getpid()}\n" in text and b"nsjail" in cmdline[0]
                        and str(sandbox_tmp).encode() in b" ".join(cmdline)):
                    return int(status.parent.name)
            return None

        nsjail_pid = wait_for(find_nsjail)
        wait_for(lambda: sandbox_processes(host_uid()))          # the script is running
        names = [p.name for p in sandbox_tmp.glob("repro-run-*")]
        assert names
        killed_at = time.monotonic()
        os.kill(nsjail_pid, signal.SIGKILL)
    finally:
        runner.join(30)
    assert not runner.is_alive()
    returned_after = time.monotonic() - killed_at
    result = outcome["run"].result
    assert returned_after < 5, f"the run took {returned_after:.1f} s to notice"
    assert result.status is not RunStatus.EXITED, result.status
    assert result.status is RunStatus.SANDBOX_ERROR, (result.status, result.detail)
    assert "SIGKILL" in result.detail, result.detail
    assert_nothing_left(names)
    assert not list(sandbox_tmp.glob("repro-run-*")), "the run's work directory was left behind"


# -- 12. uid ------------------------------------------------------------------------

def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def test_jailed_process_is_unprivileged_inside_and_on_the_host(run_in_sandbox, sandbox_tmp):
    uid = host_uid()
    assert uid != 0
    host_view: dict = {}

    def jailed_script():
        # nsjail's own set-up code runs as this uid for a moment before it drops its
        # (namespaced) capabilities and execs: look only at the exec'd interpreter
        return [pid for pid in sandbox_processes(uid)
                if b"python3" in _read_bytes(f"/proc/{pid}/cmdline")]

    def status_of(pid):
        return dict(line.split(":", 1) for line in
                    Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)

    def watch():
        pid = wait_for(jailed_script)[0]
        # the credentials change inside execve a moment after the new cmdline shows:
        # give the script up to 0.5 s to be past it (it sleeps 1.5 s in total)
        deadline = time.monotonic() + 0.5
        while int(status_of(pid)["CapEff"].strip(), 16) and time.monotonic() < deadline:
            time.sleep(0.01)
        host_view.update(line.split(":", 1) for line in
                         Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    run = run_in_sandbox("""
        import json, os, time
        report = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
                  "groups": os.getgroups(),
                  "uid_map": open("/proc/self/uid_map").read().split(),
                  "gid_map": open("/proc/self/gid_map").read().split()}
        time.sleep(1.5)
        print(json.dumps(report))
    """, **FAST)
    watcher.join(5)
    report = run.report()
    assert report["uid"] == report["euid"] == SANDBOX_UID != 0
    assert report["gid"] == SANDBOX_UID
    assert report["uid_map"] == [str(SANDBOX_UID), str(uid), "1"]
    assert report["gid_map"] == [str(SANDBOX_UID), str(uid), "1"]
    assert host_view, "never saw the jailed process from the host"
    assert host_view["Uid"].split() == [str(uid)] * 4
    assert host_view["Gid"].split() == [str(uid)] * 4
    assert int(host_view["CapEff"].strip(), 16) == 0
    assert int(host_view["CapPrm"].strip(), 16) == 0


def test_setuid_binaries_do_not_raise_privileges(run_in_sandbox):
    run = run_in_sandbox("""
        import json, os, subprocess
        status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
        suid = [p for p in ("/usr/bin/su", "/usr/bin/sudo", "/usr/bin/passwd", "/usr/bin/newgrp",
                            "/usr/bin/mount") if os.path.exists(p)]
        runs = {}
        for p in suid:
            try:
                done = subprocess.run([p, "-c", "id -u"] if p.endswith("su") else [p],
                                      capture_output=True, text=True, timeout=5, stdin=subprocess.DEVNULL)
                runs[p] = [done.returncode, done.stdout]
            except Exception as e:
                runs[p] = [None, repr(e)]
        print(json.dumps({"nnp": status["NoNewPrivs"].strip(), "capeff": status["CapEff"].strip(),
                          "capbnd": status["CapBnd"].strip(), "runs": runs}))
    """, **FAST)
    report = run.report()
    assert report["nnp"] == "1"
    assert int(report["capeff"], 16) == 0 and int(report["capbnd"], 16) == 0
    for path, (code, out) in report["runs"].items():
        assert out.strip() != "0", f"{path} ran as root inside the sandbox"


# -- 13. exit codes -----------------------------------------------------------------

@pytest.mark.parametrize("code", [0, 1, 100, 109, 123, 137, 255])
def test_exit_codes_are_preserved(run_in_sandbox, code):
    run = run_in_sandbox(f"import sys\nsys.exit({code})\n", **FAST)
    assert run.result.status is RunStatus.EXITED, (run.result.status, run.result.detail)
    assert run.result.exit_code == code


# -- 14. seccomp --------------------------------------------------------------------

def test_seccomp_refuses_kernel_attack_surface_but_allows_processes_and_threads(run_in_sandbox):
    run = run_in_sandbox("""
        import ctypes, errno, json, multiprocessing, os, subprocess, threading
        libc = ctypes.CDLL(None, use_errno=True)
        def err(result):
            return errno.errorcode.get(ctypes.get_errno(), "ok") if result == -1 else "ok"
        CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET = 0x10000000, 0x00020000, 0x40000000
        report = {
            "ptrace_traceme": err(libc.ptrace(0, 0, 0, 0)),
            "ptrace_attach": err(libc.ptrace(16, 1, 0, 0)),
            "unshare_user": err(libc.unshare(CLONE_NEWUSER)),
            "unshare_ns": err(libc.unshare(CLONE_NEWNS)),
            "unshare_net": err(libc.unshare(CLONE_NEWNET)),
            "mount": err(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
            "umount": err(libc.umount2(b"/bundle", 2)),
        }
        done = subprocess.run(["/bin/sh", "-c", "echo from-a-child"], capture_output=True, text=True)
        report["subprocess"] = done.stdout.strip()
        box = []
        t = threading.Thread(target=lambda: box.append("from-a-thread"))
        t.start(); t.join()
        report["thread"] = box[0]
        with multiprocessing.Pool(2) as pool:
            report["pool"] = pool.map(abs, [-1, -2, -3])
        print(json.dumps(report))
    """, **FAST)
    report = run.report()
    for call in ("ptrace_traceme", "ptrace_attach", "unshare_user", "unshare_ns", "unshare_net",
                 "mount", "umount"):
        assert report[call] == "EPERM", (call, report[call])
    assert report["subprocess"] == "from-a-child"
    assert report["thread"] == "from-a-thread"
    assert report["pool"] == [1, 2, 3]


# -- 15. determinism ----------------------------------------------------------------

def test_string_hashes_are_deterministic(run_in_sandbox, sandbox_backend):
    source = "import json\nprint(json.dumps({'h': hash('abc'), 's': list({'a', 'b', 'c', 'd'})}))\n"
    first, second = run_in_sandbox(source, **FAST).report(), run_in_sandbox(source, **FAST).report()
    assert first == second
    host = subprocess.run([sandbox_backend.python_executable(), "-c", "print(hash('abc'))"],
                          env={"PYTHONHASHSEED": "0"}, capture_output=True, text=True)
    assert first["h"] == int(host.stdout)
