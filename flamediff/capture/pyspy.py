"""Capturing the load with py-spy.

The load is started by flamediff and py-spy attaches to it by pid (``py-spy record --pid``),
rather than py-spy starting it (``py-spy record -- CMD``): py-spy exits 0 whatever the load's
exit status, and a run whose load failed must fail the capture. py-spy retries until the new
interpreter is ready, so the run is sampled from its start.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from flamediff.capture.probe import probe_seconds
from flamediff.capture.session import CapturedRun
from flamediff.errors import CaptureError
from flamediff.model import ProfilerInfo, RunInfo

PTRACE_HELP = (
    "py-spy is not allowed to read the load's memory: run as root, give py-spy "
    "CAP_SYS_PTRACE (in Docker: --cap-add SYS_PTRACE), or allow ptrace of child processes "
    "with `sysctl kernel.yama.ptrace_scope=0`; on macOS run flamediff with sudo"
)


def find_py_spy() -> str:
    """py-spy beside this interpreter first (a venv's bin/ need not be on PATH), then PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("py-spy")
    if found is None:
        raise CaptureError("py-spy not found: install it with `pip install py-spy`")
    return found


def py_spy_version(py_spy: str) -> str:
    output = subprocess.run(
        [py_spy, "--version"], capture_output=True, text=True, check=False
    ).stdout
    return output.strip().removeprefix("py-spy ").strip() or "unknown"


def resolve_command(command: Sequence[str]) -> list[str]:
    if not command:
        raise CaptureError("no load command: give one after `--` or set `load` in [tool.flamediff]")
    program = command[0]
    if os.sep in program:
        if not Path(program).is_file():
            raise CaptureError(f"command not found: {program}")
    elif shutil.which(program) is None:
        raise CaptureError(f"command not found: {program}")
    return list(command)


RUN_FOLDER_PREFIX = "flamediff-run-"


def load_environment(cwd: Path | None) -> dict[str, str] | None:
    """The load's environment (None: flamediff's own). A load run from another folder (a
    checkout of an earlier commit) imports that folder's code first: an editable install
    would otherwise import the current one's."""
    if cwd is None:
        return None
    entries = [str(cwd)]
    if (cwd / "src").is_dir():
        entries.append(str(cwd / "src"))
    if os.environ.get("PYTHONPATH"):
        entries.append(os.environ["PYTHONPATH"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(entries)}


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child killed when flamediff dies, on Linux; else None.

    Without it a load (and its py-spy) outlives a flamediff killed with SIGKILL, which no
    handler can see: a cancelled CI job would leave them running. ``prctl`` is resolved here,
    before the fork, so the child runs no import between fork and exec.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    set_parent_death_signal = 1  # PR_SET_PDEATHSIG

    def preexec() -> None:
        prctl(set_parent_death_signal, signal.SIGKILL)

    return preexec


def _remove_stale_run_folders() -> None:
    """Remove the raw-profile folders of captures whose flamediff was killed."""
    for folder in Path(tempfile.gettempdir()).glob(f"{RUN_FOLDER_PREFIX}*-*"):
        owner = folder.name[len(RUN_FOLDER_PREFIX) :].split("-", 1)[0]
        if not owner.isdigit() or int(owner) == os.getpid():
            continue
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's live process
            pass


def ended(status: int) -> str:
    """How a process ended, from its exit status (negative: the signal that killed it)."""
    if status >= 0:
        return f"exited with status {status}"
    try:
        return f"was killed by {signal.Signals(-status).name}"
    except ValueError:
        return f"was killed by signal {-status}"


def _printable(text: str) -> str:
    """Another program's output, safe in a one-line message: control characters escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def last_line(path: Path) -> str:
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    lines = [line for line in lines if line]
    return _printable(lines[-1][:200]) if lines else ""


@contextlib.contextmanager
def _terminating(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Make sure a child does not outlive an interrupted capture."""
    try:
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# How long a load may sit killed but held by py-spy before py-spy is stopped to release it.
_HELD_SECONDS = 2.0
_POLL_SECONDS = 0.25


def _communicate_releasing_a_killed_load(spy: subprocess.Popen[bytes], load_pid: int) -> bytes:
    """py-spy's stderr once it exits; if the load is killed while py-spy holds it, stop py-spy.

    py-spy pauses the load (ptrace) for every sample. A SIGKILL that arrives during a pause
    takes effect at once on Linux, but some kernels (gVisor's) deliver it only when the tracer
    lets go, and py-spy, reading a dying process, may never: the capture would wait forever.
    """
    held_since: float | None = None
    while True:
        try:
            return spy.communicate(timeout=_POLL_SECONDS)[1]
        except subprocess.TimeoutExpired:
            if not kill_pending(load_pid):
                held_since = None
            elif held_since is None:
                held_since = time.monotonic()
            elif time.monotonic() - held_since > _HELD_SECONDS:
                spy.terminate()


def kill_pending(pid: int) -> bool:
    """Whether a SIGKILL waits to be delivered to ``pid`` (Linux's /proc; False elsewhere)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return pending_signals(status) & (1 << (signal.SIGKILL - 1)) != 0


def pending_signals(status: str) -> int:
    """The bit mask of signals pending for a thread or its process, from /proc/PID/status."""
    mask = 0
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in {"SigPnd", "ShdPnd"}:
            with contextlib.suppress(ValueError):
                mask |= int(value.strip(), 16)
    return mask


# How long to wait for a launcher (a pyenv shim, `uv run`, `poetry run`, a shell script) to
# become or start the Python interpreter before py-spy is pointed at whatever runs.
_LAUNCHER_SECONDS = 10.0
_LAUNCHER_POLL_SECONDS = 0.005
_PYTHON_EXECUTABLE = re.compile(r"^(python|pypy)[0-9.]*[a-z]*(\.exe)?$")


def _is_python(pid: int) -> bool:
    """Whether the process runs a Python interpreter: its executable is named like one, or
    it has libpython mapped (an interpreter embedded in another program)."""
    try:
        executable = Path(f"/proc/{pid}/exe").readlink()
    except OSError:
        return False
    if _PYTHON_EXECUTABLE.match(executable.name):
        return True
    try:
        with Path(f"/proc/{pid}/maps").open(encoding="ascii", errors="replace") as maps:
            return any("libpython" in line for line in maps)
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text(encoding="ascii")
            found += [int(child) for child in children.split()]
    return found


def python_process(pid: int, exited: Callable[[], bool]) -> int:
    """The process py-spy should attach to: ``pid`` once it runs Python, or the first Python
    process it starts.

    py-spy attached to a launcher fails at random ("Failed to find python version from
    target process"): a pyenv shim execs the interpreter after a moment (same pid), and
    `uv run` or `poetry run` start it as a child. Where /proc is missing (not Linux), or no
    interpreter appears in time, ``pid`` is returned and py-spy decides.
    """
    if not Path("/proc/self/exe").exists():
        return pid
    deadline = time.monotonic() + _LAUNCHER_SECONDS
    while time.monotonic() < deadline and not exited():
        if _is_python(pid):
            return pid
        waiting = _children(pid)
        while waiting:
            child = waiting.pop(0)
            if _is_python(child):
                return child
            waiting += _children(child)
        time.sleep(_LAUNCHER_POLL_SECONDS)
    return pid


# py-spy that reads a process while it execs its interpreter, or before the interpreter has
# set itself up, fails at once with one of these; the load runs on, so py-spy tries again.
_ATTACH_ERRORS = (
    b"Failed to find python version",
    b"Failed to get process executable name",
    b"Failed to find a python interpreter",
)
_ATTACH_ATTEMPTS = 20
_ATTACH_PAUSE_SECONDS = 0.02


def _attach_failed(spy_status: int | None, spy_err: bytes, output: Path) -> bool:
    """Whether py-spy gave up attaching (not a failure while recording, nor a refusal)."""
    return (
        spy_status is not None
        and spy_status > 0
        and not output.is_file()
        and any(error in spy_err for error in _ATTACH_ERRORS)
    )


def _reap(load: subprocess.Popen[bytes], status: list[int], usage: list[float]) -> None:
    """Wait for the load and keep its exit status and CPU time (user + system, its children's
    included), which only the parent that reaps it can read."""
    try:
        _, raw_status, resources = os.wait4(load.pid, 0)
    except ChildProcessError:  # reaped elsewhere (an interrupted capture); no CPU time then
        status.append(load.wait())
        return
    load.returncode = os.waitstatus_to_exitcode(raw_status)
    status.append(load.returncode)
    usage.append(resources.ru_utime + resources.ru_stime)


class PySpyRunner:
    """Runs the load under py-spy once per ``run()`` call."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        rate_hz: float,
        subprocesses: bool = False,
        native: bool = False,
        label: str = "load",
        cwd: Path | None = None,
    ) -> None:
        self.command = resolve_command(command)
        self.rate_hz = rate_hz
        self.subprocesses = subprocesses
        self.native = native
        self.label = label
        self.cwd = cwd
        self.py_spy = find_py_spy()
        self.runs_done = 0
        _remove_stale_run_folders()

    def describe(self) -> ProfilerInfo:
        """py-spy, its version and the options that shape what the profile holds."""
        options = [("rate_hz", f"{self.rate_hz:g}")]
        options += [(flag, "true") for flag in ("subprocesses", "native") if getattr(self, flag)]
        return ProfilerInfo("py-spy", py_spy_version(self.py_spy), tuple(options))

    def _py_spy_args(self, pid: int, output: Path) -> list[str]:
        args = [
            self.py_spy, "record", "--pid", str(pid), "--rate", f"{self.rate_hz:g}",
            "--format", "raw", "--output", str(output),
        ]  # fmt: skip
        if self.subprocesses:
            args.append("--subprocesses")
        if self.native:
            args.append("--native")
        return args

    def run(self) -> CapturedRun:
        from flamediff.formats import read_profiles

        self.runs_done += 1
        # The pid in the name lets the next capture remove this folder if flamediff is killed.
        prefix = f"{RUN_FOLDER_PREFIX}{os.getpid()}-"
        with tempfile.TemporaryDirectory(prefix=prefix) as folder:
            raw = Path(folder) / "profile.folded"
            log = Path(folder) / "load.log"
            probe_before = probe_seconds()
            started = time.perf_counter()
            with log.open("wb") as log_stream:
                try:
                    load = subprocess.Popen(
                        self.command,
                        stdin=subprocess.DEVNULL,
                        stdout=log_stream,
                        stderr=subprocess.STDOUT,
                        cwd=self.cwd,
                        env=load_environment(self.cwd),
                        preexec_fn=die_with_parent(),
                    )
                except OSError as error:
                    raise CaptureError(
                        f"cannot start {self.command[0]}: {error.strerror}"
                    ) from None
                with _terminating(load):
                    # Reap the load the moment it exits: py-spy watches for the pid to vanish,
                    # and an unreaped child would linger as a zombie.
                    status: list[int] = []
                    usage: list[float] = []
                    waiter = threading.Thread(target=_reap, args=(load, status, usage))
                    waiter.start()
                    for _ in range(_ATTACH_ATTEMPTS):
                        target = python_process(load.pid, lambda: bool(status))
                        spy = subprocess.Popen(
                            self._py_spy_args(target, raw),
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            preexec_fn=die_with_parent(),
                        )
                        with _terminating(spy):
                            spy_err = _communicate_releasing_a_killed_load(spy, load.pid)
                        if status or not _attach_failed(spy.returncode, spy_err, raw):
                            break
                        time.sleep(_ATTACH_PAUSE_SECONDS)
                    waiter.join()
            wall = time.perf_counter() - started
            probe = (probe_before + probe_seconds()) / 2.0
            exit_status = status[0] if status else load.returncode
            self._check(exit_status, spy.returncode, spy_err.decode(errors="replace"), log, raw)
            profile = read_profiles(raw)[0][1]
        if profile.total == 0:
            raise CaptureError(
                f"run {self.runs_done} of {' '.join(self.command)}: py-spy took no samples; "
                "the load is too short or not a Python program"
            )
        cpu = round(usage[0], 4) if usage else None
        info = RunInfo(profile.total, round(wall, 4), exit_status, cpu, round(probe, 7))
        return CapturedRun(profile, info)

    def _check(self, exit_status: int, spy_status: int, spy_err: str, log: Path, raw: Path) -> None:
        shown = " ".join(self.command)
        if exit_status != 0:
            detail = last_line(log)
            raise CaptureError(
                f"run {self.runs_done}: `{shown}` {ended(exit_status)}"
                + (f" ({detail})" if detail else "")
                + "; nothing was archived"
            )
        if "ermission" in spy_err or "not permitted" in spy_err:
            raise CaptureError(PTRACE_HELP)
        if spy_status < 0:
            raise CaptureError(f"run {self.runs_done}: py-spy {ended(spy_status)}")
        if spy_status != 0 or not raw.is_file():
            lines = [_printable(line) for line in spy_err.splitlines() if line.strip()]
            reason = next((line for line in lines if "rror" in line), lines[-1] if lines else "")
            if "No such process" in spy_err or "process exited" in spy_err.lower():
                reason = "the load exited before py-spy could attach (is it too short?)"
            raise CaptureError(f"run {self.runs_done}: py-spy failed: {reason.strip()}")
