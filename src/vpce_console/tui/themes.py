"""Load the YAML palettes under `themes/` into Textual `Theme` objects, so colours live in data, not code."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from textual.theme import Theme

from vpce_console.errors import ConfigError

DEFAULT_THEME = "vpce-dark"
"""The theme used when neither `--theme` nor config `tui.theme` names one."""

PALETTE_KEYS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
)
"""Keys of a YAML `palette:` that map onto Textual's `Theme` fields."""

SEMANTIC_DEFAULTS: dict[str, str] = {
    "state-available": "green",
    "state-pending": "yellow",
    "state-failed": "red",
    "decision-allow": "green",
    "decision-deny": "red",
    "decision-changed": "magenta",
    "finding-error": "red",
    "finding-warning": "yellow",
    "finding-info": "cyan",
    "badge-readonly": "green",
    "badge-write": "red",
    "badge-lab": "magenta",
    "badge-text": "white",
    "stale": "grey",
    "break-even": "magenta",
}
"""Fallbacks for every semantic TCSS variable, by colour name, for themes that do not define one."""


def theme_dirs() -> list[Path]:
    """Where themes are looked up: the user's config dir first, then the project's `themes/` folder."""
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    dirs = [config_home / "vpce-console" / "themes"]
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "themes"
        if candidate.is_dir() and (candidate / "dark.yaml").exists():
            dirs.append(candidate)
            break
    return dirs


def theme_from_mapping(data: Mapping[str, Any], *, source: str) -> Theme:
    """Build one Textual theme from a parsed YAML palette; unknown keys are errors so typos surface."""
    unknown = set(data) - {"name", "dark", "palette", "semantic"}
    if unknown:
        raise ConfigError(f"{source}: unknown theme keys {sorted(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{source}: theme needs a `name`")
    palette = data.get("palette") or {}
    if not isinstance(palette, Mapping) or set(palette) - set(PALETTE_KEYS):
        raise ConfigError(f"{source}: palette keys must be among {', '.join(PALETTE_KEYS)}")
    if "primary" not in palette:
        raise ConfigError(f"{source}: palette.primary is required")
    semantic = data.get("semantic") or {}
    if not isinstance(semantic, Mapping):
        raise ConfigError(f"{source}: semantic must be a mapping")
    variables = {**SEMANTIC_DEFAULTS, **{str(k): str(v) for k, v in semantic.items()}}
    colours = {key: str(value) for key, value in palette.items()}
    return Theme(
        name=name,
        primary=colours["primary"],
        secondary=colours.get("secondary"),
        warning=colours.get("warning"),
        error=colours.get("error"),
        success=colours.get("success"),
        accent=colours.get("accent"),
        foreground=colours.get("foreground"),
        background=colours.get("background"),
        surface=colours.get("surface"),
        panel=colours.get("panel"),
        dark=bool(data.get("dark", True)),
        variables=variables,
    )


def load_themes(dirs: Iterable[Path] | None = None) -> dict[str, Theme]:
    """Every theme found, by name; earlier folders win so a user's file overrides the shipped one."""
    found: dict[str, Theme] = {}
    for folder in dirs if dirs is not None else theme_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigError(f"{path}: {exc}") from exc
            if not isinstance(data, Mapping):
                raise ConfigError(f"{path}: a theme file holds one mapping")
            theme = theme_from_mapping(data, source=str(path))
            found.setdefault(theme.name, theme)
    return found


def resolve_theme_name(name: str, available: Iterable[str]) -> str | None:
    """The registered theme a person meant: exact name, or the short form (`light` -> `vpce-light`)."""
    names = set(available)
    for candidate in (name, f"vpce-{name}"):
        if candidate in names:
            return candidate
    return None
