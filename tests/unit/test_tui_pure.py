"""Pure parts of the console: filter language, command parser, declared actions, themes, drafts, rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpce_console.errors import ConfigError
from vpce_console.tui.actions import ACTIONS, actions_for, bindings_for, dangerous_actions, validate_keymap
from vpce_console.tui.drafts import Draft, DraftStore
from vpce_console.tui.filtering import parse_filter
from vpce_console.tui.render import big_timer, decision_text, sparkline, subscriber_text
from vpce_console.tui.themes import SEMANTIC_DEFAULTS, load_themes, resolve_theme_name, theme_dirs
from vpce_console.tui.widgets.commandline import Command, parse_command
from vpce_console.tui.widgets.policytext import json_highlights


@pytest.mark.parametrize(
    ("query", "row", "expected"),
    [
        ("sqs", {"service": "sqs", "id": "vpce-1"}, True),
        ("SQS", {"service": "sqs"}, True),
        ("kms", {"service": "sqs"}, False),
        ("svc=sqs", {"service": "sqs", "name": "kms-client"}, True),
        ("svc=kms", {"service": "sqs", "name": "kms-client"}, False),
        ("env=prod sqs", {"environment": "prod", "service": "sqs"}, True),
        ("env:dev", {"environment": "prod"}, False),
        ("", {"service": "anything"}, True),
    ],
)
def test_filter_language(query: str, row: dict[str, str], expected: bool) -> None:
    assert parse_filter(query).matches(row) is expected


@pytest.mark.parametrize(
    ("text", "name", "arg"),
    [
        (":endpoints", "endpoints", ""),
        ("sub", "subscribers", ""),
        ("policy vpce-0abc", "policy", "vpce-0abc"),
        ("theme light", "theme", "light"),
        ("q", "quit", ""),
        ("den", "denials", ""),
    ],
)
def test_command_parser(text: str, name: str, arg: str) -> None:
    command = parse_command(text)
    assert command is not None and (command.name, command.arg) == (name, arg)


def test_command_parser_rejects_unknown_and_ambiguous() -> None:
    assert parse_command("frobnicate") is None
    assert parse_command("") is None
    assert parse_command("h") is None  # help or history
    assert parse_command("d") is None  # denials or doctor
    assert parse_command("de") == Command("denials") and parse_command("hi") == Command("history")


def test_actions_declared_once_with_ids() -> None:
    pairs = [(spec.scope, spec.id) for spec in ACTIONS]
    assert len(pairs) == len(set(pairs)), "an id appears twice in one scope"
    assert dangerous_actions("rollout") == {"apply", "rollback", "break_lease"}
    assert not any(spec.dangerous for spec in actions_for("main", "endpoints", "denials", "editor"))
    bindings = bindings_for("main")
    assert {b.id for b in bindings} >= {"command", "filter", "help", "refresh", "quit", "back"}


def test_keymap_validation_names_unknown_ids() -> None:
    validate_keymap({"refresh": "ctrl+r", "filter": "f"})
    with pytest.raises(ConfigError, match="refersh"):
        validate_keymap({"refersh": "ctrl+r"})


def test_themes_load_with_every_semantic_variable() -> None:
    themes = load_themes()
    assert {"vpce-dark", "vpce-light", "vpce-high-contrast"} <= set(themes)
    for theme in themes.values():
        assert set(SEMANTIC_DEFAULTS) <= set(theme.variables)
    assert resolve_theme_name("light", themes) == "vpce-light"
    assert resolve_theme_name("nope", themes) is None
    assert theme_dirs()


def test_theme_with_unknown_key_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: x\npalette: {primary: red}\ncolours: {}\n")
    with pytest.raises(ConfigError, match="colours"):
        load_themes([tmp_path])


def test_drafts_round_trip_atomically(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    assert store.load("vpce-1") is None
    path = store.save(Draft("vpce-1", '{"Statement": []}', None))
    assert path.exists() and not list(path.parent.glob(".draft-*"))
    assert store.load("vpce-1") == Draft("vpce-1", '{"Statement": []}', None)
    store.discard("vpce-1")
    assert store.load("vpce-1") is None


def test_rendering_never_relies_on_colour_alone() -> None:
    assert decision_text("allow", {}).plain == "✓ allow"
    assert decision_text("explicit_deny", {}).plain.startswith("✗ deny")
    assert subscriber_text("forbidden", {}, 2).plain == "⊘ FORBIDDEN (2✱)"
    assert sparkline([0, 1, 2, 4]) == "▁▂▄█"
    assert sparkline([]) == "—"
    assert big_timer(75).count("\n") == 2


def test_json_highlighting_spans() -> None:
    spans = json_highlights('  "Effect": "Allow", "n": 3, "b": true')
    names = [name for _, _, name in spans]
    assert names == ["json.label", "string", "json.label", "number", "json.label", "boolean"]
    assert spans[0][:2] == (2, 10)
