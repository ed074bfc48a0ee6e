"""Structured input (TOML, JSON values) read safely: nesting is bounded, so a file nested
hundreds of levels deep is refused with a reason instead of ending the run in a
RecursionError (tomllib) or TypeError (orjson refuses to write past 254 levels).
"""

from __future__ import annotations

import tomllib
from typing import Any

# Deeper than any scheme, keymap, story.toml or article record needs, and well inside what
# orjson writes back (254) and what Python's recursion limit allows.
MAX_DEPTH = 32


class StructureError(ValueError):
    """Input whose structure cannot be taken (too deep, or not parseable)."""


def depth_of(value: Any, limit: int = MAX_DEPTH) -> int:
    """The nesting depth of lists and dicts in `value` (a scalar is 0), counted without
    recursion; stops counting once past `limit`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def check_depth(value: Any, limit: int = MAX_DEPTH) -> Any:
    """`value` itself, or StructureError when it nests deeper than `limit` levels."""
    if depth_of(value, limit) > limit:
        raise StructureError(f"nested more than {limit} levels deep")
    return value


def load_toml(text: str) -> dict[str, Any]:
    """Parse TOML text, raising StructureError (with tomllib's line and column where it
    gives them) for invalid TOML or nesting deeper than MAX_DEPTH."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StructureError(f"invalid TOML: {exc}") from None
    except RecursionError:
        raise StructureError(f"nested more than {MAX_DEPTH} levels deep") from None
    return check_depth(data)
