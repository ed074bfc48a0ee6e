"""The JSON Schema files of the export format: up to date with the models, and every
exported record (annotation and gold, with and without text) valid against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from newsmark.schema import jsonschema as generator
from newsmark.schema.models import AnnotationRecord, GoldRecord
from newsmark.schema.store import Store
from tests.test_export import build_rich_store, records


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((generator.DIRECTORY / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_files_are_up_to_date_with_the_models():
    stale = [
        name for name, text in generator.render().items()
        if not (generator.DIRECTORY / name).is_file()
        or (generator.DIRECTORY / name).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"regenerate with `python -m newsmark.schema.jsonschema`: {stale} are stale"


def test_the_generator_writes_what_render_gives(tmp_path):
    written = generator.write(tmp_path)
    assert sorted(p.name for p in written) == ["annotation_record.schema.json", "annotation_record.v1.schema.json",
                                               "gold_record.schema.json", "gold_record.v1.schema.json"]
    for path in written:
        assert path.read_text(encoding="utf-8") == generator.render()[path.name]


@pytest.mark.parametrize("text", [True, False])
def test_exported_records_are_valid(store: Store, text: bool):
    build_rich_store(store)
    annotation = validator("annotation_record.schema.json")
    gold = validator("gold_record.schema.json")
    exported = records(store, text=text)
    gold_records = records(store, gold=True, text=text)
    assert len(exported) == 5 and len(gold_records) == 1
    for record in exported:
        annotation.validate(record)
        AnnotationRecord.model_validate(record)
        assert not gold.is_valid(record)
    for record in gold_records:
        gold.validate(record)
        GoldRecord.model_validate(record)
        assert not annotation.is_valid(record)


def test_the_schema_catches_what_a_loader_must_refuse(store: Store):
    build_rich_store(store)
    annotation = validator("annotation_record.schema.json")
    record = records(store)[0]
    for broken in (
        {**record, "schema_version": 1},
        {**record, "article": {**record["article"], "story_id": record["story"]["id"]}},
        {**record, "claims": [{"id": "c", "start": 1, "end": 3, "exact": "abc", "prefix": "", "suffix": "",
                               "labels": {}, "cluster": None}]},
        {**record, "extra": 1},
        {k: v for k, v in record.items() if k != "labels"},
        {**record, "article": {**record["article"], "id": "XYZ"}},
        {**record, "claims": [{"id": "c", "start": -1, "end": 3, "exact": "abc", "prefix": "", "suffix": "",
                               "labels": {}, "cluster": None}]},
        {**record, "claims": [{"id": "c", "start": True, "end": 3, "exact": "abc", "prefix": "", "suffix": "",
                               "labels": {}, "cluster": None}]},
        {**record, "claims": [{"id": "c", "start": "1", "end": 3, "exact": "abc", "prefix": "", "suffix": "",
                               "labels": {}, "cluster": None}]},
        {**record, "annotator": "x" * 65},
        {**record, "annotator": ""},
        {**record, "note": 1.2345678901234568e+29},
        {**record, "article": {**record["article"], "title": 42}},
    ):
        assert not annotation.is_valid(broken)
        with pytest.raises(ValidationError):
            AnnotationRecord.model_validate(broken)


def test_the_models_refuse_what_json_schema_cannot_say(store: Store):
    """Integral floats (JSON Schema's "integer" takes 100.0), names that break the name
    rule within its length, ids with spaces, times in the future: the loader refuses them."""
    build_rich_store(store)
    record = records(store)[0]
    claim = {"id": "c", "start": 1, "end": 3, "exact": "abc", "prefix": "", "suffix": "", "labels": {},
             "cluster": None}
    for broken in (
        {**record, "claims": [{**claim, "start": 1.0}]},
        {**record, "claims": [{**claim, "id": "c 1"}]},
        {**record, "annotator": " alice"},
        {**record, "annotator": "a\u202eb"},
        {**record, "updated_at": "9999-01-01T00:00:00Z"},
    ):
        with pytest.raises(ValidationError):
            AnnotationRecord.model_validate(broken)


def test_version_1_files_are_valid_against_the_version_1_schemas():
    fixtures = Path(__file__).parent / "fixtures"
    for file, name in (("v1.export.jsonl", "annotation_record.v1.schema.json"),
                       ("v1.gold.jsonl", "gold_record.v1.schema.json")):
        lines = (fixtures / file).read_bytes().splitlines()
        assert lines
        for line in lines:
            validator(name).validate(json.loads(line))
            assert not validator(name.replace(".v1", "")).is_valid(json.loads(line))
