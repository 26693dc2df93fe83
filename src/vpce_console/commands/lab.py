"""`vpce lab`: run the embedded lab in the foreground (ready-file, SIGINT/SIGTERM stop it)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Lab options (see docs/lab.md)."""
    from vpce_console.lab.server import add_lab_arguments

    add_lab_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from vpce_console.lab.server import exit_now
    from vpce_console.lab.server import run as run_lab

    exit_now(run_lab(args))
    return 0
