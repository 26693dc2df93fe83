"""A throwaway SSH server for the end-to-end test: `python tests/e2e/ssh_server.py FOLDER` (test-only, asyncssh).

CI machines rarely run sshd, so "runs over SSH on a bastion" would always be skipped. This starts a real SSH
server on a free localhost port with a fresh host key, accepts only the fresh client key it writes to FOLDER, and
runs each session's command under a pseudo-terminal of the size the client asked for — what sshd does. It prints
the port on stdout once listening and serves until killed.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import signal
import struct
import sys
import termios
from pathlib import Path

import asyncssh


def _set_size(fd: int, columns: int, rows: int) -> None:
    """Tell the pseudo-terminal its window size (the console lays itself out from it)."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows or 24, columns or 80, 0, 0))


async def run_session(process: asyncssh.SSHServerProcess[bytes]) -> None:
    """Run the session's command in a new PTY and copy bytes both ways until it exits."""
    command = process.command or os.environ.get("SHELL", "/bin/sh")
    columns, rows, _, _ = process.term_size
    master, slave = pty.openpty()
    _set_size(master, columns, rows)
    env = {**os.environ, **{str(k): str(v) for k, v in process.env.items()}}
    env["TERM"] = process.term_type or env.get("TERM", "xterm-256color")
    child = await asyncio.create_subprocess_exec(
        "/bin/sh",
        "-c",
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,  # the PTY becomes the child's controlling terminal, as under sshd
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    loop = asyncio.get_running_loop()
    output_done = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(master)
            if not output_done.done():
                output_done.set_result(None)
            return
        process.stdout.write(data)

    loop.add_reader(master, readable)

    async def pump_input() -> None:
        while True:
            try:
                data = await process.stdin.read(4096)
            except asyncssh.TerminalSizeChanged as change:  # the client's window changed: tell the PTY
                _set_size(master, change.width, change.height)
                if child.returncode is None:
                    os.killpg(child.pid, signal.SIGWINCH)
                continue
            if not data:
                return
            os.write(master, data)

    feeder = asyncio.create_task(pump_input())
    code = await child.wait()
    await asyncio.wait({output_done}, timeout=2)
    feeder.cancel()
    loop.remove_reader(master)
    os.close(master)
    process.exit(code)


class Server(asyncssh.SSHServer):
    """Public-key authentication only, with the one key written for this run."""

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False


async def main(folder: Path) -> None:
    """Write the keys, listen on a free port, print it, serve forever."""
    folder.mkdir(parents=True, exist_ok=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_path = folder / "client_key"
    client_path.write_bytes(client_key.export_private_key())
    client_path.chmod(0o600)
    (folder / "client_key.pub").write_bytes(client_key.export_public_key())
    server = await asyncssh.create_server(
        Server,
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        authorized_client_keys=asyncssh.import_authorized_keys(client_key.export_public_key().decode()),
        process_factory=run_session,
        encoding=None,
        line_editor=False,
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
