"""Composition root: parse arguments, pick the target (AWS or a lab), run one command, map errors to exit codes.

Exit codes (DESIGN.md §5): 0 success, 1 problems found, 2 usage/input/credential errors (one line on stderr).
Each subcommand lives in `vpce_console.commands.<name>` and exposes `add_arguments(parser)` and
`run(args) -> int`; heavy imports stay inside `run` so `--help` and the TUI's first frame stay fast.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import sys
from collections.abc import Sequence

from vpce_console import __version__
from vpce_console.errors import VpceError
from vpce_console.safeload import one_line

MAX_CLI_ERROR_CHARS = 2000
"""An error line is cut here: a hostile value must never turn into a gigabyte on stderr."""

COMMANDS: dict[str, str] = {
    "console": "the TUI (also the default when no command is given)",
    "lab": "run the embedded lab in the foreground",
    "lint": "findings for endpoint policies (files, directories, CloudFormation, Terraform plans)",
    "simulate": "evaluate request contexts against a policy",
    "impact": "who changes from allow to deny and back between two policies",
    "inventory": "hub endpoints, hosted zones, associations and spokes",
    "doctor": "wiring findings for the hub and its spokes",
    "cost": "break-even report: centralized vs per-VPC vs NAT",
    "rollout": "apply a policy with compare-and-swap and watch it propagate",
    "history": "the change journal",
    "rollback": "restore the previous policy byte for byte",
    "tail": "endpoint-policy denials, classified",
    "usage": "who really called through each endpoint (org trail: calls, denials, first/last seen)",
    "denials": "history of endpoint-policy denials from the org trail, grouped",
    "replay": "what a draft would have done to the last week of real calls (org trail)",
}


def add_common_arguments(parser: argparse.ArgumentParser, *, inherit: bool = False) -> None:
    """Options every subcommand takes: where AWS is and how to reach it.

    With `inherit` (subcommands) the defaults are suppressed, so `vpce --lab doctor` keeps the `--lab` given
    before the command instead of argparse resetting it to the subcommand's default.
    """
    extra: dict[str, object] = {"default": argparse.SUPPRESS} if inherit else {}
    group = parser.add_argument_group("target")
    group.add_argument("--profile", help="AWS profile name (standard botocore chain otherwise)", **extra)  # type: ignore[arg-type]
    group.add_argument("--region", help="AWS region (default: the profile's or the config's)", **extra)  # type: ignore[arg-type]
    group.add_argument("--config", metavar="FILE", help="config YAML (see config.example.yaml)", **extra)  # type: ignore[arg-type]
    lab = group.add_mutually_exclusive_group()
    lab.add_argument(
        "--lab",
        action="store_true",
        help="start an embedded lab in a child process and use it",
        **extra,  # type: ignore[arg-type]
    )
    lab.add_argument("--lab-ready", metavar="FILE", help="attach to a running lab through its ready-file", **extra)  # type: ignore[arg-type]
    group.add_argument(
        "--lab-dns",
        choices=("direct", "profiles", "mixed"),
        help="with --lab: how the spokes get the endpoints' zones — direct associations (default), Route 53 "
        "Profiles, or both",
        **extra,  # type: ignore[arg-type]
    )


_VALUE_OPTIONS = frozenset({"--profile", "--region", "--config", "--lab-ready", "--lab-dns"})


def selected_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line, found without importing any command module."""
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token in _VALUE_OPTIONS:
            skip = True
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def build_parser(only: str | None = None, *, all_commands: bool = True) -> argparse.ArgumentParser:
    """The CLI; command modules add their own options (only `only`'s module is imported when `all_commands` is off).

    Importing one module instead of twelve keeps `vpce lint` and the TUI's start-up free of asyncio, the lab and
    the rollout machinery they do not use.
    """
    parser = argparse.ArgumentParser(
        prog="vpce",
        description="Operations console for centralized AWS interface VPC endpoints.",
        epilog="Exit codes: 0 ok, 1 problems found, 2 usage, input or credential error.",
    )
    parser.add_argument("--version", action="version", version=f"vpce-console {__version__}")
    add_common_arguments(parser)
    if only is None and not all_commands:
        # `vpce` alone is the console: its own options (--allow-write, --theme, …) work without the word `console`.
        console = _command_module("console")
        if console is not None:
            console.add_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        add_common_arguments(command, inherit=True)
        if not all_commands and name != only:
            continue
        module = _command_module(name)
        if module is not None:
            module.add_arguments(command)
    return parser


def _command_module(name: str):  # type: ignore[no-untyped-def]
    """Import `vpce_console.commands.<name>`, or None while that command is not built yet."""
    try:
        return importlib.import_module(f"vpce_console.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"vpce_console.commands.{name}":
            return None
        raise


def reject_unknown(parser: argparse.ArgumentParser, command: str | None, unknown: Sequence[str]) -> None:
    """Exit 2 with the usage of the command that was given (not the top level's) and one error line.

    argparse hands a subcommand's unknown options up to the top-level parser, which would print `vpce`'s usage
    for a typo in `vpce lint --formt`; the person needs lint's usage and, when it is close, the option they meant.
    """
    owner = parser
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            owner = action.choices[command]
    known = [o for action in owner._actions for o in action.option_strings if o.startswith("--")]
    message = f"unrecognized arguments: {' '.join(unknown)}"
    first = unknown[0].split("=", 1)[0]
    if first.startswith("-"):
        close = difflib.get_close_matches(first, known, n=1, cutoff=0.6)
        if close:
            message += f" (did you mean {close[0]}?)"
    owner.error(message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; expected errors become one line on stderr."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(selected_command(words), all_commands=False)
    args, unknown = parser.parse_known_args(words)
    if unknown:
        reject_unknown(parser, getattr(args, "command", None), unknown)
    name = args.command or "console"
    module = _command_module(name)
    if module is None:
        print(f"vpce: '{name}' is not available in this build", file=sys.stderr)
        return 2
    _tolerant_streams()
    try:
        return int(module.run(args))
    except VpceError as exc:
        print(f"vpce {name}: {one_line(str(exc), MAX_CLI_ERROR_CHARS)}", file=sys.stderr)
        return 2
    except RecursionError:
        print(f"vpce {name}: input nested too deeply to read", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"vpce {name}: out of memory reading the input", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vpce {name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _tolerant_streams() -> None:
    """Print a lone surrogate (`\\ud800` from a JSON escape) as `\\ud800` instead of dying in the middle of a line."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a detached or closed stream keeps its own policy
                reconfigure(errors="backslashreplace")


if __name__ == "__main__":
    raise SystemExit(main())
