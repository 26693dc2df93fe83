"""Run `vpce` as a real child process and measure what a hostile input costs it: exit code, stderr, time, memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

MEMORY_CAP = 2 * 1024**3
"""Address-space cap of the child: a regression fails the test with MemoryError instead of eating the machine."""
WALL_BOUND = 20.0
"""Seconds a refusal may take on a loaded 2-core CI runner (a healthy refusal takes well under one)."""
RSS_BOUND_MB = 250.0
"""Peak resident memory of a refusal: the interpreter and our imports are ~60 MB."""


@dataclass(frozen=True, slots=True)
class Run:
    """One finished `vpce` child."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    rss_mb: float

    @property
    def stderr_lines(self) -> list[str]:
        """Non-empty stderr lines."""
        return [line for line in self.stderr.splitlines() if line.strip()]

    def assert_one_line(self, code: int = 2, *, contains: str = "") -> None:
        """Exit `code`, exactly one stderr line naming vpce (no traceback), inside the time and memory bounds."""
        assert self.code == code, (self.code, self.stderr[-2000:])
        assert len(self.stderr_lines) == 1, self.stderr[-2000:]
        line = self.stderr_lines[0]
        assert line.startswith("vpce "), line
        assert "Traceback" not in self.stderr
        assert len(line) <= 2100, len(line)
        assert contains.lower() in line.lower(), line
        self.assert_bounded()

    def assert_bounded(self) -> None:
        """Inside the wall-clock and RSS bounds."""
        assert self.seconds < WALL_BOUND, self.seconds
        assert self.rss_mb < RSS_BOUND_MB, self.rss_mb


CHILD = f"""
import atexit, os, resource, runpy, sys
resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))
def _peak():
    with open("/proc/self/status") as status, open(os.environ["VPCE_TEST_PEAK_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(_peak)
runpy.run_module("vpce_console", run_name="__main__", alter_sys=True)
"""
"""`python -m vpce_console` with the address-space cap, writing its own peak RSS (VmHWM, kB) when it exits.

The child measures itself: a forked child's rusage starts from the parent's peak, and pytest's own process grows
past the bound over a full run (labs, Textual apps), which would fail every later measurement.
"""


def run_vpce(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float = 60.0,
    stdin: bytes | None = None,
    stdin_zeros: int = 0,
) -> Run:
    """`python -m vpce_console ARGS` with the test's environment; RSS as the child measured its own peak.

    `stdin_zeros` feeds that many zero bytes without holding them in this process (a forked child's peak RSS
    starts from the parent's, so a big `stdin` bytes object here would be counted against the child).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        elif stdin_zeros:
            inp.truncate(stdin_zeros)  # a sparse file of zeros
            inp.seek(0)
        peak_file = Path(tempfile.mkdtemp()) / "peak"
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            stdout=out,
            stderr=err,
            stdin=inp,
            cwd=cwd,
            env={**os.environ, "VPCE_TEST_PEAK_FILE": str(peak_file)},
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        # A child that died without running atexit (killed) keeps the pessimistic rusage figure.
        peak_kb = float(peak_file.read_text()) if peak_file.exists() else float(usage.ru_maxrss)
        shutil.rmtree(peak_file.parent, ignore_errors=True)
        return Run(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            peak_kb / 1024.0,
        )


OK_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
REQUEST = '{"principal":"arn:aws:iam::111122223333:role/r","action":"sqs:SendMessage","resource":"*"}'


def alias_bomb(levels: int = 9) -> str:
    """The 1 KB YAML that expands to 9^levels strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "bcdefghijklmnop"[: levels - 1]
    previous = "a"
    for name in names:
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    lines.append(f"tail: {{log_groups: *{previous}}}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A folder of hostile (and a few friendly) inputs."""
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "ok.json").write_text(OK_POLICY)
    (tmp_path / "request.json").write_text(REQUEST)
    (tmp_path / "bomb.yaml").write_text(alias_bomb())
    (tmp_path / "latin1.yaml").write_bytes("region: caf\xe9\n".encode("latin-1"))
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "deep.yaml").write_text(deep)
    (tmp_path / "deep.json").write_text(deep)
    (tmp_path / "deep_personas.yaml").write_text("personas: " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "bigint.yaml").write_text("region: " + "1" * 4400 + "\n")
    (tmp_path / "bigint_request.json").write_text(REQUEST[:-1] + ',"context":{"n":' + "1" * 4400 + "}}")
    (tmp_path / "bigint_policy.json").write_text(
        OK_POLICY.replace('"Resource":"*"', '"Resource":"*","Condition":{"NumericEquals":{"aws:x":' + "1" * 4400 + "}}")
    )
    (tmp_path / "bigint_trail.json").write_text('{"Records":[{"eventVersion":' + "1" * 4400 + "}]}")
    return tmp_path
