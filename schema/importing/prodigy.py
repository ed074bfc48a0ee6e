"""Prodigy's JSONL (`prodigy db-out`): one task per line.

    {"text": "...", "spans": [{"start": 0, "end": 5, "label": "CLAIM"}], "label": "AGREE",
     "accept": ["AGREE"], "answer": "accept", "_annotator_id": "news-alice",
     "_session_id": "news-alice", "_timestamp": 1700000000, "meta": {...}}

Offsets are Python string indices (code points). A task answered "reject" or "ignore"
is skipped: it records that the annotator turned the suggestion down, not a label. A
classification task's `label` (binary interfaces) and the chosen option ids in `accept`
(choice interfaces) are labels of the whole text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from newsmark.schema.importing.base import ForeignError, ForeignItem, ForeignSpan
from newsmark.schema.structured import StructureError, check_depth


class ProdigySpan(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    start: int
    end: int
    label: str


class ProdigyTask(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    text: str
    spans: list[ProdigySpan] = []
    label: str | None = None
    accept: list[str | int] = []
    answer: Literal["accept", "reject", "ignore"] = "accept"
    meta: dict[str, Any] = {}


def read(lines: Iterator[tuple[int, bytes]], text_key: str = "text") -> Iterator[ForeignItem | ForeignError]:
    """Items of a Prodigy JSONL file, given as (line number, raw line); a line that cannot
    be taken is yielded as a ForeignError naming the line."""
    for line, raw in lines:
        if not raw.strip():
            continue
        try:
            data = check_depth(orjson.loads(raw))
            if not isinstance(data, dict):
                raise ForeignError("a task must be a JSON object")
            if text_key != "text" and text_key in data:
                data = {**data, "text": data[text_key]}
            task = ProdigyTask.model_validate(data)
        except (orjson.JSONDecodeError, StructureError, ForeignError) as exc:
            yield ForeignError(str(exc), line)
            continue
        except ValidationError as exc:
            yield ForeignError(_first_error(exc), line)
            continue
        if task.answer != "accept":
            continue
        labels = [task.label] if task.label else []
        labels += [str(option) for option in task.accept]
        annotator = data.get("_annotator_id") or data.get("_session_id")
        stamp = data.get("_timestamp")
        at = None
        if isinstance(stamp, int) and not isinstance(stamp, bool):
            at = dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        meta = task.meta
        yield ForeignItem(
            line=line, text=task.text, labels=labels,
            spans=[ForeignSpan(start=s.start, end=s.end, label=s.label) for s in task.spans],
            annotator=annotator if isinstance(annotator, str) else None, at=at,
            title=meta.get("title") if isinstance(meta.get("title"), str) else None,
            source=meta.get("source") if isinstance(meta.get("source"), str) else None,
            url=meta.get("url") if isinstance(meta.get("url"), str) else None,
            meta={k: v for k, v in meta.items() if k not in ("title", "source", "url")},
        )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err["loc"])
    return f"{where}: {err['msg']}" if where else err["msg"]
