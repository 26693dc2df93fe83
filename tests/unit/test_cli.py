"""The CLI contract's frame: help works, unknown input is exit 2 with one line."""

from __future__ import annotations

import pytest

from vpce_console.cli import COMMANDS, build_parser, main, selected_command


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


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each subcommand parses `--help` and documents the common target options."""
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--lab-ready" in out and "--profile" in out


def test_parser_builds_once_per_command() -> None:
    parser = build_parser()
    assert parser.prog == "vpce"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["lint", "x.json"], "lint"),
        (["--profile", "lint", "doctor"], "doctor"),  # a profile may be named like a command
        (["--lab", "--format", "json"], None),
        (["--region", "eu-west-1", "tail", "--follow"], "tail"),
        ([], None),
    ],
)
def test_selected_command_skips_option_values(argv: list[str], expected: str | None) -> None:
    assert selected_command(argv) == expected


def test_options_before_the_command_are_kept() -> None:
    """`vpce --lab doctor` must not lose `--lab` to the subcommand's default."""
    args = build_parser("doctor", all_commands=False).parse_args(["--lab", "--region", "eu-west-1", "doctor"])
    assert (args.lab, args.region, args.command) == (True, "eu-west-1", "doctor")
    args = build_parser("doctor", all_commands=False).parse_args(["doctor", "--lab-ready", "r.json"])
    assert (args.lab, args.lab_ready) == (False, "r.json")


def test_bare_vpce_takes_the_console_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--allow-write" in out and "--theme" in out


def test_missing_ready_file_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lab-ready", "/nonexistent/ready.json", "doctor"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "/nonexistent/ready.json" in err[0]


def test_subcommand_typo_prints_that_commands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """`vpce lint --formt` is lint's mistake: lint's usage, one error line naming the option and the near miss."""
    with pytest.raises(SystemExit) as exc:
        main(["lint", "--formt", "json", "x.json"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: vpce lint ")
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors == ["vpce lint: error: unrecognized arguments: --formt (did you mean --format?)"]


def test_top_level_typo_keeps_the_top_level_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--lba"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: vpce [")
    assert "vpce: error: unrecognized arguments: --lba (did you mean --lab?)" in err
