"""A real SSH server for the end-to-end tests, so "works over SSH on a bastion" is checked in CI, not skipped."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def tmux_available() -> None:
    """Skips a tmux test where tmux is missing (`.ci/run` installs it)."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (.ci/run installs it)")


@pytest.fixture
def ssh_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A real SSH server on a free localhost port with throwaway keys; (port, client key)."""
    pytest.importorskip("asyncssh", reason="asyncssh is a dev dependency (pip install -e '.[dev]')")
    if shutil.which("ssh") is None:
        pytest.skip("no ssh client (.ci/run installs openssh-client)")
    folder = tmp_path / "ssh"
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("ssh_server.py")), str(folder)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().strip() or 0)
        assert port, "the SSH server did not start"
        yield port, folder / "client_key"
    finally:
        server.terminate()
        server.wait(timeout=10)


def ssh_command(server: tuple[int, Path], remote: str) -> str:
    """The system `ssh` client with a PTY (`-tt`) running `remote` on the test's server."""
    port, key = server
    return (
        f"ssh -tt -p {port} -i {shlex.quote(str(key))} -o BatchMode=yes -o StrictHostKeyChecking=no "
        f"-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR 127.0.0.1 {shlex.quote(remote)}"
    )
