"""Label Studio's JSON export: a list of tasks.

    [{"id": 1, "data": {"text": "..."},
      "annotations": [{"completed_by": 3 | {"email": "a@x"}, "was_cancelled": false,
                       "updated_at": "2024-01-02T10:00:00.000000Z",
                       "result": [{"type": "labels", "value": {"start": 0, "end": 5, "text": "...", "labels": ["CLAIM"]}},
                                  {"type": "choices", "value": {"choices": ["AGREE"]}}]}]}]

The text is under a key of `data` that the project's labelling config names (`text` unless
told otherwise). Span offsets count UTF-16 code units, as the browser does; they are turned
into code points here. Each annotation (one per annotator) is one item; cancelled ones are
skipped. The whole file is one JSON document, so a broken one is refused whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from newsmark.schema.importing.base import ForeignError, ForeignItem, ForeignSpan, first_error
from newsmark.schema.sanitize import utf16_to_code_points
from newsmark.schema.structured import StructureError, check_depth


class LSValue(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    start: int | None = None
    end: int | None = None
    labels: list[str] = []
    choices: list[str] = []


class LSResult(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    type: str
    value: LSValue


class LSAnnotation(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    completed_by: int | dict[str, Any] | None = None
    was_cancelled: bool = False
    updated_at: str | None = None
    result: list[LSResult] = []


class LSTask(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    id: int | None = None
    data: dict[str, Any]
    annotations: list[LSAnnotation] = []


def read(document: bytes, text_key: str = "text") -> Iterator[ForeignItem | ForeignError]:
    """Items of a Label Studio JSON export; `line` is the task's position (1-based)."""
    try:
        tasks = check_depth(orjson.loads(document), limit=64)
    except (orjson.JSONDecodeError, StructureError) as exc:
        raise ForeignError(f"not a Label Studio JSON export: {exc}") from None
    if not isinstance(tasks, list):
        raise ForeignError("not a Label Studio JSON export: expected a list of tasks")
    for position, raw in enumerate(tasks, 1):
        try:
            task = LSTask.model_validate(raw)
        except ValidationError as exc:
            yield ForeignError(first_error(exc), position)
            continue
        text = task.data.get(text_key)
        if not isinstance(text, str):
            keys = ", ".join(sorted(task.data)) or "none"
            yield ForeignError(f"no text under data.{text_key} (keys: {keys}); name it with --text-key", position)
            continue
        to_code_points = None
        for annotation in task.annotations:
            if annotation.was_cancelled:
                continue
            labels: list[str] = []
            spans: list[ForeignSpan] = []
            for result in annotation.result:
                value = result.value
                labels += value.choices
                if value.labels and value.start is not None and value.end is not None:
                    if to_code_points is None:
                        to_code_points = utf16_to_code_points(text)
                    if not 0 <= value.start < value.end <= len(to_code_points) - 1:
                        yield ForeignError(f"span {value.start}-{value.end} lies outside the text", position)
                        continue
                    start, end = to_code_points[value.start], to_code_points[value.end]
                    spans += [ForeignSpan(start=start, end=end, label=name) for name in value.labels]
            yield ForeignItem(line=position, text=text, labels=labels, spans=spans,
                              annotator=_who(annotation.completed_by), at=annotation.updated_at,
                              meta={"labelstudio_task": task.id} if task.id is not None else {})


def _who(completed_by: int | dict[str, Any] | None) -> str | None:
    if isinstance(completed_by, dict):
        email = completed_by.get("email")
        if isinstance(email, str) and email:
            return email
        ident = completed_by.get("id")
        return f"labelstudio-{ident}" if isinstance(ident, int) else None
    if isinstance(completed_by, int) and not isinstance(completed_by, bool):
        return f"labelstudio-{completed_by}"
    return None
