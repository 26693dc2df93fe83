"""Every key the console answers to, declared once: id, default keys, description, scope and whether it writes.

Screens build their Textual `BINDINGS` from this table, the help screen lists it, config `keymap:` rebinds by id
(Textual's own keymap mechanism), and read-only mode disables every `dangerous` action (STYLE.md rule 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One user-facing action and its default keys."""

    id: str
    """Stable id users rebind in config `keymap:` (e.g. `filter: "ctrl+f"`); one id may appear in several scopes."""
    keys: str
    """Default keys in Textual's syntax, comma separated (`"question_mark,f1"`)."""
    action: str
    """The Textual action it runs (`"open_help"`)."""
    description: str
    """Short words for the footer and the help screen."""
    scope: str
    """Where it applies: `main` (every pane), a pane name, `editor`, `rollout` or `details`."""
    dangerous: bool = False
    """True for anything that writes to AWS; disabled unless the console runs with `--allow-write`."""
    show: bool = True
    """Whether the footer shows it (the footer keeps only the few keys that matter)."""
    priority: bool = False
    """Textual priority binding: fires even when a focused widget (an input) would take the key."""


ACTIONS: tuple[ActionSpec, ...] = (
    # Priority: over SSH the keys after `:` or `/` often arrive in the same read, before a normal binding would
    # have moved the focus; the screen's check_action lets them through while an input has the focus.
    ActionSpec("command", "colon", "command_line", "command", "main", priority=True),
    ActionSpec("filter", "slash", "filter", "filter", "main", priority=True),
    ActionSpec("help", "question_mark,f1", "open_help", "help", "main"),
    ActionSpec("refresh", "r", "refresh", "refresh", "main"),
    ActionSpec("quit", "q", "quit", "quit", "main"),
    ActionSpec("back", "escape", "back", "back / clear filter", "main", show=False),
    ActionSpec("edit", "e", "edit_policy", "edit policy", "endpoints"),
    ActionSpec("details", "enter", "details", "details", "endpoints", show=False),
    ActionSpec("rollout", "o", "open_rollout", "rollout", "endpoints", show=False),
    ActionSpec("pause", "p", "toggle_pause", "pause/resume", "denials"),
    ActionSpec("export", "x", "export_denials", "export JSONL", "denials"),
    ActionSpec("policy-version", "v", "denial_policy", "policy version", "denials", show=False),
    ActionSpec("history-rollback", "b", "rollback_change", "roll back", "history", dangerous=True),
    ActionSpec("history-watch", "w", "watch_change", "watch", "history"),
    ActionSpec("history-open", "enter", "open_change", "rollout screen", "history", show=False),
    ActionSpec("save-draft", "ctrl+s", "save_draft", "save draft", "editor"),
    ActionSpec("findings", "f2", "focus_findings", "findings", "editor"),
    ActionSpec("text", "f3", "focus_text", "text", "editor", show=False),
    ActionSpec("impact", "f4", "show_tab('impact')", "impact", "editor"),
    ActionSpec("diff", "f5", "show_tab('diff')", "diff", "editor"),
    ActionSpec("observed", "f8", "show_tab('observed')", "observed 7d", "editor"),
    ActionSpec("editor-rollout", "ctrl+o", "open_rollout", "rollout…", "editor"),
    ActionSpec("editor-help", "f1", "open_help", "help", "editor"),
    ActionSpec("back", "escape", "back", "back (Esc leaves the text first)", "editor", show=False),
    ActionSpec("next", "n", "next_step", "next step", "rollout"),
    ActionSpec("apply", "a", "apply", "apply", "rollout", dangerous=True),
    ActionSpec("rollback", "b", "rollback", "roll back", "rollout", dangerous=True),
    ActionSpec("watch-change", "w", "watch_change", "watch last change", "rollout", show=False),
    ActionSpec("break-lease", "x", "break_lease", "break stale lease", "rollout", dangerous=True, show=False),
    ActionSpec("help", "question_mark,f1", "open_help", "help", "rollout"),
    ActionSpec("back", "escape", "back", "back", "rollout"),
    ActionSpec("edit", "e", "edit_policy", "edit policy", "details"),
    ActionSpec("details-rollout", "o", "open_rollout", "rollout / last change", "details"),
    ActionSpec("details-rollback", "b", "rollback_change", "roll back last change", "details", dangerous=True),
    ActionSpec("back", "escape,q", "back", "back", "details"),
    ActionSpec("close-help", "escape,q,question_mark", "dismiss", "close", "help"),
)
"""The whole key map; ids are stable, keys are defaults."""

PALETTE_KEY = "ctrl+p"
"""Textual's command palette key, listed on the help screen though Textual itself binds it."""


def actions_for(*scopes: str) -> tuple[ActionSpec, ...]:
    """The declared actions of the given scopes, in declaration order."""
    return tuple(spec for spec in ACTIONS if spec.scope in scopes)


def bindings_for(*scopes: str) -> list[BindingType]:
    """Textual bindings (with ids, so the keymap can rebind them) for the given scopes."""
    return [
        Binding(
            spec.keys,
            spec.action,
            spec.description,
            show=spec.show,
            id=spec.id,
            priority=spec.priority,
            key_display=display_keys(spec.keys).split(",")[0],
        )
        for spec in actions_for(*scopes)
    ]


def dangerous_actions(*scopes: str) -> frozenset[str]:
    """Names of the Textual actions that write, for `check_action` to disable in read-only mode."""
    return frozenset(spec.action.split("(")[0] for spec in actions_for(*scopes) if spec.dangerous)


_KEY_NAMES = {"colon": ":", "slash": "/", "question_mark": "?", "escape": "esc"}


def display_keys(keys: str) -> str:
    """Keys as a person types them (`colon` -> `:`)."""
    return ",".join(_KEY_NAMES.get(key.strip(), key.strip()) for key in keys.split(","))


def validate_keymap(keymap: Mapping[str, str]) -> None:
    """Reject keymap ids that name no action, so a typo in config does not silently do nothing."""
    known = {spec.id for spec in ACTIONS} | {"confirm-cancel"}
    unknown = sorted(set(keymap) - known)
    if unknown:
        from vpce_console.errors import ConfigError

        raise ConfigError(f"keymap: unknown action ids {unknown}; known: {', '.join(sorted(known))}")


def effective_keys(spec: ActionSpec, keymap: Mapping[str, str]) -> str:
    """The keys an action answers to once the user's keymap is applied, for the help screen."""
    return display_keys(keymap.get(spec.id, spec.keys))
