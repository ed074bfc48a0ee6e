"""What every foreign reader yields: one annotated text, as the other tool saw it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsmark.schema.structured import StructureError, check_depth

M = TypeVar("M", bound=BaseModel)


class ForeignError(ValueError):
    """A line or task of a foreign file that cannot be taken; the message says why and
    `line` where (the line of a JSONL file, the task's position in a JSON list)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.line = line


class ForeignSpan(BaseModel):
    """A labelled span in code points of the foreign text (end exclusive)."""

    model_config = ConfigDict(frozen=True)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    label: str


class ForeignItem(BaseModel):
    """One annotated text: where it was in the file, the raw text, the labels given to the
    whole text, the labelled spans, who annotated it and when (UTC ISO, if the tool says)."""

    line: int
    text: str
    labels: list[str] = Field(default_factory=list)
    spans: list[ForeignSpan] = Field(default_factory=list)
    annotator: str | None = None
    at: str | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


def json_lines(
    lines: Iterator[tuple[int, bytes | None]],
    model: type[M],
    *,
    what: str,
    text_key: str = "text",
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Iterator[tuple[int, dict[str, Any], M] | ForeignError]:
    """The lines of a JSONL file (as `schema.load.read_lines` gives them) validated by
    `model`: (line, the decoded object, the model) for each, or a ForeignError naming the
    line. The text is taken from `text_key`; `prepare` adapts a decoded object first."""
    for line, raw in lines:
        if raw is None:
            yield ForeignError("line too long; not read", line)
            continue
        if not raw.strip():
            continue
        try:
            data = check_depth(orjson.loads(raw))
            if not isinstance(data, dict):
                raise ForeignError(f"{what} must be a JSON object")
            if text_key != "text" and text_key in data:
                data = {**data, "text": data[text_key]}
            if prepare is not None:
                data = prepare(data)
            yield line, data, model.model_validate(data)
        except (orjson.JSONDecodeError, StructureError, ForeignError) as exc:
            yield ForeignError(str(exc), line)
        except ValidationError as exc:
            yield ForeignError(first_error(exc), line)


def first_error(exc: ValidationError) -> str:
    """The first problem pydantic found, as `where: what`."""
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err["loc"])
    return f"{where}: {err['msg']}" if where else err["msg"]
