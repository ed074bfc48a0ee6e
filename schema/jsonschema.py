"""The JSON Schema files of the export format, generated from the pydantic models.

`python -m newsmark.schema.jsonschema` (re)writes schema/jsonschema/annotation_record.schema.json
and gold_record.schema.json (the records `newsmark export` writes, schema_version 2), and
their version-1 forms (`*.v1.schema.json`, which `load-annotations` still reads);
tests/test_jsonschema.py fails when they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from newsmark.schema.models import AnnotationRecord, AnnotationRecordV1, GoldRecord, GoldRecordV1

DIRECTORY = Path(__file__).resolve().parent / "jsonschema"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
MODELS: dict[str, type[BaseModel]] = {
    "annotation_record.schema.json": AnnotationRecord,
    "gold_record.schema.json": GoldRecord,
    "annotation_record.v1.schema.json": AnnotationRecordV1,
    "gold_record.v1.schema.json": GoldRecordV1,
}


def schema_of(model: type[BaseModel]) -> dict:
    """The JSON Schema (draft 2020-12) of one record model."""
    return {"$schema": DIALECT, **model.model_json_schema(mode="validation")}


def render() -> dict[str, str]:
    """File name -> the text each schema file should hold."""
    return {
        name: json.dumps(schema_of(model), indent=2, ensure_ascii=False) + "\n"
        for name, model in MODELS.items()
    }


def write(directory: Path = DIRECTORY) -> list[Path]:
    """Write the schema files; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    """Entry point of `python -m newsmark.schema.jsonschema`."""
    for path in write():
        print(f"wrote {path}", file=sys.stdout)


if __name__ == "__main__":
    main()
