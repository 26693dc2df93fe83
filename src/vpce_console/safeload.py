"""Bounded readers for everything a user hands us: files capped in size, YAML capped in expansion and depth, JSON
errors in one short line, so a hostile 1 KB file can never cost minutes, gigabytes or a traceback.

Limits (docs/common.md): policy 1 MB, config / personas 1 MB, request files 16 MB; YAML documents at most
64 levels deep and 100,000 nodes once aliases are expanded. A leading UTF-8 byte-order mark is dropped when a
file is read, so lint, simulate, impact and rollout all see (and rollout writes) the same document after it.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

from vpce_console.errors import UsageError

KB = 1024
MB = 1024 * KB
MAX_POLICY_BYTES = 1 * MB
"""AWS caps an endpoint policy at 20,480 characters; 1 MB leaves room for other policy types and white space."""
MAX_CONFIG_BYTES = 1 * MB
MAX_PERSONAS_BYTES = 1 * MB
MAX_REQUESTS_BYTES = 16 * MB
"""`simulate --requests` takes one request per line; 16 MB is tens of thousands of contexts."""
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 100_000
"""Nodes after alias expansion: a config or personas file is hundreds of nodes; an alias bomb is billions."""
MAX_ERROR_CHARS = 300
BOM = "\ufeff"


def short(value: object, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters, so an error never echoes a whole hostile value."""
    try:
        text = repr(value) if not isinstance(value, (list, dict, tuple, set)) else _short_container(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_container(value: object) -> str:
    size = len(value)  # type: ignore[arg-type]
    return f"<{type(value).__name__} of {size} item{'s' if size != 1 else ''}>"


def one_line(message: str, limit: int = MAX_ERROR_CHARS) -> str:
    """A message on one line of at most `limit` characters (newlines folded, the rest cut)."""
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def read_capped(path: str, *, limit: int, what: str) -> bytes:
    """At most `limit` bytes of a file (`-` is stdin); UsageError when it is larger, unreadable or a directory.

    Reads one byte past the limit to tell "exactly at the limit" from "larger", so `/dev/zero` returns at once.
    """
    try:
        if path == "-":
            buffer = getattr(sys.stdin, "buffer", None)  # a text-only stdin (a test's StringIO) has no bytes
            data = buffer.read(limit + 1) if buffer is not None else sys.stdin.read(limit + 1).encode()
        else:
            with Path(path).open("rb") as handle:
                data = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {(exc.strerror or str(exc)).lower()}") from None
    if len(data) > limit:
        raise UsageError(f"{path}: larger than the {_size(limit)} limit for a {what}; refusing to read more")
    return data


def decode_text(data: bytes, path: str) -> str:
    """UTF-8 text without a leading byte-order mark; UsageError otherwise (latin-1, binary)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start} is {data[exc.start : exc.start + 1]!r})") from None
    return text[1:] if text.startswith(BOM) else text


def read_text_capped(path: str, *, limit: int, what: str) -> str:
    """`read_capped` then `decode_text`: the one way commands read a user's text file."""
    return decode_text(read_capped(path, limit=limit, what=what), path)


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit // KB} KB"


class YamlLimitError(ValueError):
    """A YAML document that is not valid, too deep or too large once its aliases are expanded."""


@functools.cache
def _loader_class() -> type[Any]:
    """The bounded loader, built on first use so importing this module does not import PyYAML."""
    import yaml

    class _BoundedLoader(yaml.SafeLoader):
        """SafeLoader that counts the expanded size of every node as it composes, refusing alias bombs early.

        An alias costs the whole size of the node it points at, so nine lists of nine aliases each (a 1 KB file that
        expands to 9^9 strings) fail after a few hundred nodes instead of exhausting memory when a caller walks it.
        """

        def __init__(self, stream: str, max_nodes: int, max_depth: int) -> None:
            super().__init__(stream)
            self._max_nodes = max_nodes
            self._max_depth = max_depth
            self._depth = 0
            self._weight: dict[int, int] = {}

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                node = super().compose_node(parent, index)
                weight = self._weight.get(id(node), 1)
            else:
                self._depth += 1
                if self._depth > self._max_depth:
                    mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                    raise YamlLimitError(f"nested deeper than {self._max_depth} levels at line {mark.line + 1}")
                try:
                    node = super().compose_node(parent, index)
                finally:
                    self._depth -= 1
                weight = 1 + self._children_weight(node)
                self._weight[id(node)] = weight
            if weight > self._max_nodes:
                raise YamlLimitError(
                    f"expands to more than {self._max_nodes:,} values (aliases that repeat aliases: a YAML bomb?)"
                )
            return node

        def _children_weight(self, node: Any) -> int:
            if isinstance(node, yaml.SequenceNode):
                return sum(self._weight.get(id(child), 1) for child in node.value)
            if isinstance(node, yaml.MappingNode):
                return sum(self._weight.get(id(k), 1) + self._weight.get(id(v), 1) for k, v in node.value)
            return 0

    return _BoundedLoader


def load_yaml(text: str, *, max_nodes: int = MAX_YAML_NODES, max_depth: int = MAX_YAML_DEPTH) -> Any:
    """`yaml.safe_load` with bounds; YamlLimitError (one short line, never the value) for anything hostile."""
    import yaml

    loader = _loader_class()(text, max_nodes, max_depth)
    try:
        return loader.get_single_data()
    except YamlLimitError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise YamlLimitError(f"invalid YAML{where}: {one_line(str(exc.problem or exc.context or ''), 80)}") from None
    except yaml.YAMLError as exc:
        raise YamlLimitError(f"invalid YAML: {one_line(str(exc), 80)}") from None
    except RecursionError:
        raise YamlLimitError(f"nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # int() of a 4,301-digit number, a bad timestamp …
        raise YamlLimitError(f"unreadable value: {one_line(str(exc), 80)}") from None
    finally:
        loader.dispose()


def load_json(text: str, where: str) -> Any:
    """`json.loads` with one-line UsageErrors for invalid JSON, deep nesting and over-long numbers."""
    try:
        return json.loads(text)
    except RecursionError:
        raise UsageError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:
        raise UsageError(f"{where}: invalid JSON: {one_line(str(exc), 120)}") from None
