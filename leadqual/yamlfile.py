"""Line numbers for YAML files, so every validation error can say `file:line`."""

from __future__ import annotations

from typing import Any

import yaml

Loc = tuple[Any, ...]


def line_index(node: yaml.Node | None) -> dict[Loc, int]:
    """Map each key path (`("rules", 2, "when")`) in a composed YAML tree to its line."""
    index: dict[Loc, int] = {}
    if node is None:
        return index

    def walk(n: yaml.Node, path: Loc) -> None:
        index.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                index[(*path, key.value)] = key.start_mark.line + 1
                walk(value, (*path, key.value))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i))

    walk(node, ())
    return index


def line_for(lines: dict[Loc, int], loc: Loc) -> int:
    """The line of the deepest known prefix of `loc`."""
    for end in range(len(loc), -1, -1):
        if tuple(loc[:end]) in lines:
            return lines[tuple(loc[:end])]
    return 1


def dotted(loc: Loc) -> str:
    """Render a path as `rules[2].when.field`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def yaml_error_line(exc: yaml.MarkedYAMLError) -> int:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark else 1
