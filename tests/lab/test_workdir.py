"""Every `--lab` run removes its `vpce-lab-*` temporary folder, whichever way it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vpce_console.errors import UsageError
from vpce_console.lab.child import WORKDIR_PREFIX


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(WORKDIR_PREFIX) and p.is_dir())


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(tmp_path)}


def test_cli_lab_run_leaves_no_folder(tmp_path: Path) -> None:
    """A whole `vpce --lab inventory` run (lab started, used, stopped at exit) leaves nothing behind."""
    result = subprocess.run(
        [sys.executable, "-m", "vpce_console", "--lab", "inventory", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=240,
        env=_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-400:]
    assert _leftovers(tmp_path) == []


def test_refused_start_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that exits at once (bad option) is reported with its log line, then its folder is removed."""
    import tempfile

    from vpce_console.lab.child import start_lab_child

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(UsageError, match="exited with code 2"):
        start_lab_child(scale="empty", extra_args=["--faults", "sqs=explode"])
    assert _leftovers(tmp_path) == []


def test_parent_killed_the_child_cleans_up(tmp_path: Path) -> None:
    """When the parent dies without stopping the lab (SIGKILL), the orphaned child removes the folder itself."""
    script = (
        "import os, signal\n"
        "from vpce_console.lab.child import start_lab_child\n"
        "lab = start_lab_child(scale='empty', traffic=0)\n"
        "print(lab.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=240, env=_env(tmp_path)
    )
    child = int(result.stdout.split()[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (_leftovers(tmp_path) or _alive(child)):
        time.sleep(0.2)
    assert not _alive(child), "the orphaned lab kept running"
    assert _leftovers(tmp_path) == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie reaped by init still answers signal 0 for a moment; its /proc state says it is gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_group_signal_stops_both_and_leaves_no_folder(tmp_path: Path) -> None:
    """`timeout` (and a terminal closing) signal the whole process group: parent and lab stop together."""
    script = (
        "import time\n"
        "from vpce_console.lab.child import start_lab_child\n"
        "lab = start_lab_child(scale='empty', traffic=0)\n"
        "print(lab.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        start_new_session=True,
    )
    assert process.stdout is not None
    child = int(process.stdout.readline())
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (_leftovers(tmp_path) or _alive(child)):
        time.sleep(0.2)
    assert not _alive(child)
    assert _leftovers(tmp_path) == []
