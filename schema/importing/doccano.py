"""doccano's JSONL export: one example per line.

Sequence labelling: `{"id": 1, "text": "...", "label": [[0, 5, "CLAIM"], ...]}` (older
exports name the key `labels`); text classification: `{"text": "...", "label": ["AGREE"]}`
(category names). Offsets are code points. doccano exports no annotator per line unless
it was exported per user; a `user`/`annotator` key is used when present.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from newsmark.schema.importing.base import ForeignError, ForeignItem, ForeignSpan, json_lines

SpanTriple = tuple[int, int, str]


class DoccanoExample(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    text: str
    label: list[SpanTriple] | list[str] = []


def _prepare(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if "label" not in data and "labels" in data:
        data["label"] = data.pop("labels")
    # JSON has no tuples: [start, end, name] lists become triples for the model.
    if isinstance(data.get("label"), list):
        data["label"] = [tuple(x) if isinstance(x, list) else x for x in data["label"]]
    return data


def read(lines: Iterator[tuple[int, bytes | None]], text_key: str = "text") -> Iterator[ForeignItem | ForeignError]:
    """Items of a doccano JSONL file (see the module docstring)."""
    for parsed in json_lines(lines, DoccanoExample, what="an example", text_key=text_key, prepare=_prepare):
        if isinstance(parsed, ForeignError):
            yield parsed
            continue
        line, data, example = parsed
        spans = [ForeignSpan(start=x[0], end=x[1], label=x[2]) for x in example.label if isinstance(x, tuple)]
        labels = [x for x in example.label if isinstance(x, str)]
        who: Any = data.get("user", data.get("annotator"))
        yield ForeignItem(line=line, text=example.text, labels=labels, spans=spans,
                          annotator=str(who) if isinstance(who, (str, int)) and not isinstance(who, bool) else None)
