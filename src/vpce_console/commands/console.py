"""`vpce` / `vpce console`: the Textual console, read-only unless `--allow-write`.

Only the config is read before the first frame; the SDK, the services and (with `--lab`) the lab child are
started by the connector, which the app runs in a worker after it has painted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway
    from vpce_console.commands.console_backend import ServicesBackend


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Console options on top of the common target flags."""
    parser.add_argument(
        "--allow-write",
        action="store_true",
        help="enable actions that write to AWS (policy apply, roll back); default is read-only",
    )
    parser.add_argument("--theme", help="theme name: vpce-dark (default), vpce-light, vpce-high-contrast")
    parser.add_argument("--no-tail", action="store_true", help="do not follow the denial stream")
    parser.add_argument(
        "--no-trail", action="store_true", help="do not read the org trail (calls/denials columns, denial history)"
    )
    parser.add_argument(
        "--lab-propagation",
        metavar="MIN:MAX",
        help="with --lab: the lab's policy propagation window in seconds (e.g. 6:12 for a quick demo)",
    )


def make_connector(
    args: argparse.Namespace, *, read_only: bool, clock: Callable[[], float] = time.time
) -> Callable[[], Awaitable[ServicesBackend]]:
    """An async callable that builds the services backend (heavy imports happen when it runs)."""

    async def connect() -> ServicesBackend:
        import asyncio

        from vpce_console.connect import connect_lab as resolve

        # Both steps block (a lab child starting, aiobotocore/aiohttp importing): keep them off the event loop so
        # the first frame and the keyboard stay live meanwhile.
        config, target, lab = await asyncio.to_thread(resolve, args)
        gateway_class, backend_class = await asyncio.to_thread(_backend_classes)
        gateway = gateway_class(target, config)
        await gateway.__aenter__()
        return backend_class(gateway, config, target, read_only=read_only, clock=clock, lab=lab)

    return connect


def _backend_classes() -> tuple[type[AwsGateway], type[ServicesBackend]]:
    """Import the AWS gateway (and with it the SDK) and the services backend."""
    from vpce_console.aws.session import AwsGateway
    from vpce_console.commands.console_backend import ServicesBackend

    return AwsGateway, ServicesBackend


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
        trail=not getattr(args, "no_trail", False),
        watch_timeout=config.watch.timeout_seconds,
    )
    result = app.run()
    if app.return_code:  # a crash (App._fatal_error) exits non-zero after its one line and crash log
        return int(app.return_code)
    return int(result or 0)
