"""The CLI contract's frame: help works, unknown input is exit 2 with one line."""

from __future__ import annotations

import pytest

from vpce_console.cli import COMMANDS, build_parser, main


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_unknown_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2


def test_every_command_has_a_parser() -> None:
    parser = build_parser()
    for name in COMMANDS:
        args, _ = parser.parse_known_args([name])
        assert args.command == name
