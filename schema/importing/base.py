"""What every foreign reader yields: one annotated text, as the other tool saw it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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
