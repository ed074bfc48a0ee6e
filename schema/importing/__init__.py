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

from newsmark.schema.importing.base import ForeignError, ForeignItem, ForeignSpan
from newsmark.schema.importing.mapping import LabelMap, MappingError

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


__all__ = ["FORMATS", "ForeignError", "ForeignItem", "ForeignSpan", "LabelMap", "MappingError", "reader_for"]
