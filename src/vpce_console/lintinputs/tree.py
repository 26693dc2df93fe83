"""One small tree for JSON (with positions, from the policy parser) and YAML (from the composer, any tags),
so the CloudFormation and plan readers walk both the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class T:
    """A value with its 1-based position; `tag` is a YAML short-form intrinsic such as `!Sub` (else None)."""

    kind: str
    """`map`, `seq` or `scalar`."""
    line: int
    column: int
    value: Any = None
    """Scalars: str/int/float/bool/None."""
    items: list[T] = field(default_factory=list)
    """Sequences: the items."""
    members: list[tuple[str, int, int, T]] = field(default_factory=list)
    """Mappings: (key, key line, key column, value)."""
    tag: str | None = None

    def get(self, key: str) -> T | None:
        """The member named `key` (last wins, as JSON parsers keep), or None."""
        found = None
        for name, _, _, value in self.members:
            if name == key:
                found = value
        return found

    def keys(self) -> list[str]:
        """Member names in order."""
        return [name for name, _, _, _ in self.members]


def from_json_node(node: Any) -> T:
    """Convert a `policy.parse.Node` tree (positions included)."""
    if node.kind == "object":
        return T(
            "map",
            node.line,
            node.column,
            members=[(m.key, m.line, m.column, from_json_node(m.value)) for m in node.members],
        )
    if node.kind == "array":
        return T("seq", node.line, node.column, items=[from_json_node(i) for i in node.items])
    return T("scalar", node.line, node.column, value=node.value)


def _scalar(node: Any) -> Any:
    """A YAML scalar as the policy sees it: null and booleans typed, everything else the text as written.

    Numbers stay text: CloudFormation hands template values on as strings, and an unquoted account id
    (`aws:PrincipalAccount: 111122223333`) is an account id, not a number.
    """
    tag, text = node.tag, node.value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return text.lower() in ("true", "yes", "on", "y")
    return text


def from_yaml_node(node: Any) -> T:
    """Convert a PyYAML composed node; tags that are not YAML's own are kept as `tag` (`!Sub`, `!Ref`)."""
    import yaml

    tag = node.tag if isinstance(node.tag, str) and node.tag.startswith("!") else None
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(node, yaml.MappingNode):
        members = []
        for key, value in node.value:
            members.append((str(key.value), key.start_mark.line + 1, key.start_mark.column + 1, from_yaml_node(value)))
        return T("map", line, column, members=members, tag=tag)
    if isinstance(node, yaml.SequenceNode):
        return T("seq", line, column, items=[from_yaml_node(i) for i in node.value], tag=tag)
    return T("scalar", line, column, value=node.value if tag else _scalar(node), tag=tag)


def compose_yaml(text: str) -> T | None:
    """Compose YAML text (any tags allowed, nothing constructed); None when it is not YAML or empty."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.YAMLError:
        return None
    if node is not None:
        _check_expanded_size(node, {})
    return None if node is None else from_yaml_node(node)


def _check_expanded_size(node: Any, sizes: dict[int, int]) -> int:
    """Values `node` stands for once aliases are followed; UsageError past the YAML limit (an alias bomb).

    Composed aliases are shared node objects, so the size is memoized per node and the check is linear in the
    file while `from_yaml_node` would be exponential in it.
    """
    import yaml

    from vpce_console.errors import UsageError
    from vpce_console.safeload import MAX_YAML_NODES

    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_check_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_check_expanded_size(k, sizes) + _check_expanded_size(v, sizes) for k, v in node.value)
    if size > MAX_YAML_NODES:
        raise UsageError(f"YAML expands to more than {MAX_YAML_NODES:,} values (aliases that repeat aliases)")
    sizes[id(node)] = size
    return size
