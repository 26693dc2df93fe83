"""Shared plumbing of `vpce inventory`, `vpce doctor` and `vpce cost`: connect, load the inventory, report progress.

Heavy imports (the SDK) happen inside `load`, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vpce_console.config import Config
    from vpce_console.services.inventory import Inventory


class StderrProgress:
    """One progress line on stderr: rewritten in place on a terminal, one line per step otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self._shown = False

    def __call__(self, message: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            sys.stderr.write(f"\r\x1b[K{message}")
            self._shown = True
        else:
            sys.stderr.write(f"{message}\n")
        sys.stderr.flush()

    def done(self) -> None:
        """Clear the in-place line so the report starts on a clean line."""
        if self.tty and self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    """`--format text|json` (text is for people, json has stable keys)."""
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def load(args: argparse.Namespace, *, show_progress: bool) -> tuple[Config, Inventory]:
    """Resolve the target from the common flags and read the whole inventory."""
    import asyncio

    from vpce_console.aws.session import AwsGateway
    from vpce_console.connect import connect
    from vpce_console.services.inventory import load_inventory

    config, target = connect(args)
    progress = StderrProgress(show_progress)

    async def read() -> Inventory:
        async with AwsGateway(target, config) as gateway:
            return await load_inventory(gateway, config, progress=progress)

    try:
        inventory = asyncio.run(read())
    finally:
        progress.done()
    return config, inventory
