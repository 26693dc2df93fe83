"""CloudFormation intrinsic functions turned into text the linter can read, with positions kept.

An intrinsic's value is not known before deployment, so it becomes a `${…}` placeholder that the linter
reports once as `unresolved-placeholder` (and skips the checks that depend on it); `!Sub` keeps its literal
text around the placeholders, so `arn:aws:s3:::${Bucket}/*` is still checked as an S3 object ARN.
"""

from __future__ import annotations

import re
from typing import Any

from vpce_console.lintinputs.tree import T
from vpce_console.policy.parse import format_path

REMOVED = object()
"""`Ref: AWS::NoValue`: the element is left out."""

_SHORT = {
    "!Ref": "Ref",
    "!Condition": "Condition",
}
_SUB_VAR = re.compile(r"\$\{(!?)([^}]*)\}")


def _fn_name(node: T) -> tuple[str, T] | None:
    """The intrinsic a node is (`Fn::Sub`, `Ref`, …) and its argument, in either JSON or YAML short form."""
    if node.tag:
        name = _SHORT.get(node.tag) or "Fn::" + node.tag[1:]
        return name, T(node.kind, node.line, node.column, node.value, node.items, node.members, None)
    if node.kind == "map" and len(node.members) == 1:
        key = node.members[0][0]
        if key == "Ref" or key == "Condition" or key.startswith("Fn::"):
            return key, node.members[0][3]
    return None


class Converter:
    """Turns a tree into plain data, recording the file position of every JSON path it produces."""

    def __init__(self) -> None:
        self.positions: dict[str, tuple[int, int]] = {}

    def value(self, node: T, path: tuple[str | int, ...] = (), at: tuple[int, int] | None = None) -> Any:
        self.positions.setdefault(format_path(path), at or (node.line, node.column))
        fn = _fn_name(node)
        if fn is not None:
            return self.intrinsic(fn[0], fn[1], path)
        if node.kind == "map":
            out: dict[str, Any] = {}
            for key, line, column, child in node.members:
                converted = self.value(child, (*path, key), (line, column))
                if converted is not REMOVED:
                    out[key] = converted
            return out
        if node.kind == "seq":
            items: list[Any] = []
            for child in node.items:
                converted = self.value(child, (*path, len(items)))
                if converted is not REMOVED:
                    items.append(converted)
            return items
        return node.value

    def intrinsic(self, name: str, arg: T, path: tuple[str | int, ...]) -> Any:
        if name == "Ref":
            ref = str(arg.value)
            return REMOVED if ref == "AWS::NoValue" else "${" + ref + "}"
        if name == "Fn::Sub":
            if arg.kind == "seq" and arg.items:
                template, variables = arg.items[0], arg.items[1] if len(arg.items) > 1 else None
            else:
                template, variables = arg, None
            known: dict[str, str] = {}
            if variables is not None and variables.kind == "map":
                for key, _, _, child in variables.members:
                    if child.kind == "scalar" and child.tag is None and isinstance(child.value, str):
                        known[key] = child.value
            text = str(template.value)

            def fill(m: re.Match[str]) -> str:
                if m.group(1):  # ${!Literal} is written out as ${Literal}: an IAM policy variable
                    return "${" + m.group(2) + "}"
                return known.get(m.group(2), m.group(0))

            return _SUB_VAR.sub(fill, text)
        if name == "Fn::GetAtt":
            if arg.kind == "seq":
                return "${" + ".".join(str(i.value) for i in arg.items) + "}"
            return "${" + str(arg.value) + "}"
        if name == "Fn::Join" and arg.kind == "seq" and len(arg.items) == 2 and arg.items[1].kind == "seq":
            sep = str(arg.items[0].value or "")
            parts = [self.value(item, path) for item in arg.items[1].items]
            return sep.join(str(p) for p in parts if p is not REMOVED)
        if name == "Fn::If" and arg.kind == "seq" and len(arg.items) == 3:
            chosen = self.value(arg.items[1], path)  # lint the "true" branch; the other is a variant of it
            return self.value(arg.items[2], path) if chosen is REMOVED else chosen
        if name == "Fn::Select" and arg.kind == "seq" and len(arg.items) == 2 and arg.items[1].kind == "seq":
            try:
                return self.value(arg.items[1].items[int(str(arg.items[0].value))], path)
            except (ValueError, IndexError):
                pass
        return "${" + name + "}"
