"""Annotations made in other tools, brought in as newsmark's own records.

One module per foreign format (`prodigy`, `doccano`, `labelstudio`), each with its file
schema modelled in pydantic and a `read(data, text_key=...)` that yields `ForeignItem`s
(the text as that tool saw it, category labels, spans in code points of that text, who
annotated). `mapping.LabelMap` says what each foreign label means in our scheme, and
`records.to_records` turns items into export records (the same sanitising and article id
rule as `newsmark import`, spans moved with the text), which `load-annotations` loads
like a teammate's file: validated once, every change an event, each file all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from newsmark.schema.importing.base import ForeignError, ForeignItem, ForeignSpan
from newsmark.schema.importing.mapping import LabelMap, MappingError
from newsmark.schema.importing.records import merged, to_records
from newsmark.schema.ingest import slugify
from newsmark.schema.load import (
    STDIN, STDIN_NAME, LoadReport, RejectedInput, Rejection, load_converted, open_input, read_lines,
)
from newsmark.schema.models import utc_now
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.store import Store

FORMATS = ("prodigy", "doccano", "labelstudio")


def reader_for(name: str):
    """The `read` function of a foreign format (see FORMATS)."""
    if name == "prodigy":
        from newsmark.schema.importing.prodigy import read
    elif name == "doccano":
        from newsmark.schema.importing.doccano import read
    elif name == "labelstudio":
        from newsmark.schema.importing.labelstudio import read
    else:
        raise KeyError(f"unknown format {name!r} (known: {', '.join(FORMATS)})")
    return read


__all__ = [
    "FORMATS", "ForeignError", "ForeignItem", "ForeignSpan", "LabelMap", "MappingError", "load_foreign", "reader_for",
]


def load_foreign(
    store: Store,
    paths: Iterable[str],
    *,
    fmt: str,
    mapping: LabelMap,
    story: str | None = None,
    annotator: str | None = None,
    text_key: str = "text",
) -> LoadReport:
    """Load other tools' annotation files: each read by its format's reader, turned into
    records (`records.to_records`) and loaded as a teammate's export is. A file's story
    is `story`, else the slug of its name; items whose tool names no annotator are
    `annotator`'s (default: the format's name). Labels the mapping does not name are
    reported as rejections of that label (the rest of the item still loads)."""
    read = reader_for(fmt)
    report = LoadReport()
    now = utc_now()
    for path in paths:
        name = STDIN_NAME if str(path) == STDIN else str(path)
        story_id = story or slugify(Path(name).stem if name != STDIN_NAME else fmt)
        story_fields = {"id": story_id, "title": story_id, "proposition": ""}
        existing = store.get_story(story_id)
        if existing is not None:
            story_fields.update(title=existing.title, proposition=existing.proposition)
        def items(stream) -> Iterator[tuple[int, dict | str]]:
            found = read(stream.read(), text_key=text_key) if fmt == "labelstudio" else read(
                read_lines(stream), text_key=text_key)
            for item in merged(to_records(found, mapping, story=story_fields, annotator=annotator or fmt, now=now)):
                for label in item.unmapped:
                    report.rejected.append(Rejection(
                        name, item.line, f"label '{for_terminal(label)}' is not mapped: map it with --label or "
                        "a [labels] file (the item's other labels were taken)"))
                yield item.line, item.record if item.record is not None else item.error

        try:
            with open_input(path) as stream:
                load_converted(store, [(name, items(stream))], report)
        except (ForeignError, RejectedInput) as exc:
            report.rejected.append(Rejection(name, None, str(exc)))
        except OSError as exc:
            report.rejected.append(Rejection(name, None, f"cannot read: {exc.strerror or exc}"))
    return report
