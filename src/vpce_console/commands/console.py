"""`vpce` / `vpce console`: the Textual console, read-only unless `--allow-write`.

Only the config is read before the first frame; the SDK, the services and (with `--lab`) the lab child are
started by the connector, which the app runs in a worker after it has painted.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Console options on top of the common target flags."""
    parser.add_argument(
        "--allow-write",
        action="store_true",
        help="enable actions that write to AWS (policy apply, roll back); default is read-only",
    )
    parser.add_argument("--theme", help="theme name: vpce-dark (default), vpce-light, vpce-high-contrast")
    parser.add_argument("--no-tail", action="store_true", help="do not follow the denial stream")


def make_connector(args: argparse.Namespace, *, read_only: bool) -> Any:
    """An async callable that builds the services backend (heavy imports happen when it runs)."""

    async def connect() -> Any:
        import asyncio

        from vpce_console.aws.session import AwsGateway
        from vpce_console.connect import connect as resolve
        from vpce_console.tui.live import ServicesBackend

        config, target = await asyncio.to_thread(resolve, args)
        gateway = AwsGateway(target, config)
        await gateway.__aenter__()
        return ServicesBackend(gateway, config, target, read_only=read_only)

    return connect


def run(args: argparse.Namespace) -> int:
    """Start the console; returns the app's exit code."""
    from vpce_console.config import load_config
    from vpce_console.tui.app import VpceApp

    config = load_config(getattr(args, "config", None))
    read_only = not (getattr(args, "allow_write", False) or config.allow_write)
    app = VpceApp(
        make_connector(args, read_only=read_only),
        read_only=read_only,
        theme=getattr(args, "theme", None) or config.tui.theme,
        keymap=dict(config.tui.keymap),
        tail=not getattr(args, "no_tail", False),
        watch_timeout=config.watch.timeout_seconds,
    )
    result = app.run()
    return int(result or 0)
