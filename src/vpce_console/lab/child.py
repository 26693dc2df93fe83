"""Start a lab in a child process that dies with its parent (stdin pipe EOF + parent-pid watch)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from vpce_console.errors import UsageError
from vpce_console.readyfile import read_ready_json

WORKDIR_PREFIX = "vpce-lab-"
"""Prefix of the temporary folder (ready-file, lab log) of each lab child; removed when the lab stops."""


class LabHandle:
    """A running lab child: `.ready` (the ready-file dict), `.endpoint_url`, `.stop()`; a context manager."""

    def __init__(self, process: subprocess.Popen[bytes], ready: dict[str, Any], workdir: Path) -> None:
        self.process = process
        self.ready = ready
        self.endpoint_url: str = str(ready["endpoint_url"])
        self.ready_file = workdir / "ready.json"
        self._workdir = workdir

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL; remove the work folder; returns the exit code."""
        try:
            if self.process.poll() is None:
                try:
                    self.process.send_signal(signal.SIGTERM)
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
            if self.process.stdin is not None:
                with contextlib.suppress(OSError):
                    self.process.stdin.close()
        finally:
            shutil.rmtree(self._workdir, ignore_errors=True)
        return self.process.returncode

    def __enter__(self) -> LabHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_lab_child(
    *,
    scale: str = "demo",
    seed: int | None = None,
    dns: str | None = None,
    propagation: str | tuple[float, float] | None = None,
    no_limits: bool = False,
    traffic: float | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 120.0,
) -> LabHandle:
    """Spawn `python -m vpce_console.lab.server` and wait for its ready-file; UsageError if it fails to start."""
    workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
    try:
        extra = [*(["--dns", dns] if dns else []), *extra_args]
        return _start(workdir, scale, seed, propagation, no_limits, traffic, extra, timeout)
    except BaseException:
        # Refused to start, timed out or interrupted (ctrl+c while waiting): nothing else will remove the folder.
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _start(
    workdir: Path,
    scale: str,
    seed: int | None,
    propagation: str | tuple[float, float] | None,
    no_limits: bool,
    traffic: float | None,
    extra_args: Sequence[str],
    timeout: float,
) -> LabHandle:
    ready_file = workdir / "ready.json"
    cmd = [sys.executable, "-m", "vpce_console.lab.server", "--scale", scale, "--port", "0"]
    cmd += ["--ready-file", str(ready_file), "--watch-stdin", "--parent-pid", str(os.getpid())]
    # If this process dies without stop() (SIGKILL, a crash), the child notices and removes the folder itself.
    cmd += ["--remove-workdir"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if propagation is not None:
        text = propagation if isinstance(propagation, str) else f"{propagation[0]}:{propagation[1]}"
        cmd += ["--propagation", text]
    if no_limits:
        cmd.append("--no-limits")
    if traffic is not None:
        cmd += ["--traffic", str(traffic)]
    cmd += list(extra_args)
    log = open(workdir / "lab.log", "wb")  # noqa: SIM115 - the child owns it for its lifetime
    process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready_file.exists():
            return LabHandle(process, read_ready_json(ready_file), workdir)
        if process.poll() is not None:
            tail = (workdir / "lab.log").read_text(errors="replace")[-400:].strip().splitlines()
            raise UsageError(f"the lab exited with code {process.returncode}: {tail[-1] if tail else 'no output'}")
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=5)
    raise UsageError(f"the lab was not ready within {timeout:.0f} s")
