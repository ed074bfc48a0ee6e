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

from pydantic import BaseModel, ConfigDict

from newsmark.schema.importing.base import ForeignError, ForeignItem, ForeignSpan, json_lines


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


def read(lines: Iterator[tuple[int, bytes | None]], text_key: str = "text") -> Iterator[ForeignItem | ForeignError]:
    """Items of a Prodigy JSONL file, given as (line number, raw line); a line that cannot
    be taken is yielded as a ForeignError naming the line."""
    for parsed in json_lines(lines, ProdigyTask, what="a task", text_key=text_key):
        if isinstance(parsed, ForeignError):
            yield parsed
            continue
        line, data, task = parsed
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

