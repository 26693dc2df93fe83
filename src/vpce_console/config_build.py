"""YAML values -> the config's frozen dataclasses, by their type hints, collecting every problem with its key path."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from vpce_console.safeload import short


def type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer"}.get(
        type(value), type(value).__name__
    )


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def build_value(tp: Any, value: Any, path: str, problems: list[str]) -> Any:
    """Convert `value` to type `tp`, appending problems (with `path`) instead of raising."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return build_value(inner[0], value, path, problems)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _build_dataclass(tp, value, path, problems)
    if origin is tuple:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {type_name(value)}")
            return ()
        return tuple(build_value(args[0], item, f"{path}[{i}]", problems) for i, item in enumerate(value))
    if origin in (Mapping, dict) or tp is Mapping:
        if not isinstance(value, Mapping):
            problems.append(f"{path}: expected a mapping, got {type_name(value)}")
            return {}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(f"{_join(path, key)}: keys must be strings (quote account ids)")
                continue
            out[key] = build_value(args[1], item, _join(path, key), problems)
        return out
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true or false, got {short(value)}")
            return False
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {short(value)}")
            return 0
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: expected a number, got {short(value)}")
            return 0.0
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            hint = " (quote account ids: '111122223333')" if isinstance(value, int) else ""
            problems.append(f"{path}: expected a string, got {short(value)}{hint}")
            return ""
        return value
    raise TypeError(f"unsupported config type {tp!r} at {path}")  # a bug in this module, not user input


def _build_dataclass(cls: type, value: Any, path: str, problems: list[str]) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        problems.append(f"{path or 'top level'}: expected a mapping, got {type_name(value)}")
        value = {}
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in value:
        if key not in fields:
            known = ", ".join(sorted(fields))
            problems.append(f"{_join(path, key)}: unknown key (known: {known})")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name in value:
            kwargs[name] = build_value(hints[name], value[name], _join(path, name), problems)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            problems.append(f"{_join(path, name)}: required key is missing")
            kwargs[name] = _placeholder(hints[name])
    return cls(**kwargs)


def _placeholder(tp: Any) -> Any:
    return {str: "", int: 0, float: 0.0, bool: False}.get(tp)
