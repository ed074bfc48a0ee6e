"""doccano's JSONL export: one example per line.

Sequence labelling: `{"id": 1, "text": "...", "label": [[0, 5, "CLAIM"], ...]}` (older
exports name the key `labels`); text classification: `{"text": "...", "label": ["AGREE"]}`
(category names). Offsets are code points. doccano exports no annotator per line unless
it was exported per user; a `user`/`annotator` key is used when present.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from newsmark.schema.importing.base import ForeignError, ForeignItem, ForeignSpan
from newsmark.schema.importing.prodigy import _first_error
from newsmark.schema.structured import StructureError, check_depth

SpanTriple = tuple[int, int, str]


class DoccanoExample(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    text: str
    label: list[SpanTriple] | list[str] = []


def read(lines: Iterator[tuple[int, bytes]], text_key: str = "text") -> Iterator[ForeignItem | ForeignError]:
    """Items of a doccano JSONL file (see the module docstring)."""
    for line, raw in lines:
        if not raw.strip():
            continue
        try:
            data = check_depth(orjson.loads(raw))
            if not isinstance(data, dict):
                raise ForeignError("an example must be a JSON object")
            data = dict(data)
            if "label" not in data and "labels" in data:
                data["label"] = data.pop("labels")
            if text_key != "text" and text_key in data:
                data["text"] = data[text_key]
            # JSON has no tuples: [start, end, name] lists become triples for the model.
            if isinstance(data.get("label"), list):
                data["label"] = [tuple(x) if isinstance(x, list) else x for x in data["label"]]
            example = DoccanoExample.model_validate(data)
        except (orjson.JSONDecodeError, StructureError, ForeignError) as exc:
            yield ForeignError(str(exc), line)
            continue
        except ValidationError as exc:
            yield ForeignError(_first_error(exc), line)
            continue
        spans = [ForeignSpan(start=x[0], end=x[1], label=x[2]) for x in example.label if isinstance(x, tuple)]
        labels = [x for x in example.label if isinstance(x, str)]
        who: Any = data.get("user", data.get("annotator"))
        yield ForeignItem(line=line, text=example.text, labels=labels, spans=spans,
                          annotator=str(who) if isinstance(who, (str, int)) and not isinstance(who, bool) else None)
