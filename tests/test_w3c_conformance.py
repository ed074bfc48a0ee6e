"""`export --format w3c` against the W3C Web Annotation test suite: every MUST assertion
for annotations, collections and pages (JSON Schema, draft-04, from
../shared/data/w3c-web-annotation-tests), and JSON-LD expansion with pyld using the
model's own context served offline."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from newsmark.exports.w3c import CONTEXT, write_w3c
from tests.test_formats import annotated  # noqa: F401 - the fixture

from pyld import jsonld  # a dev dependency: missing, the test fails rather than skips


def _suite_dir(shared_data: Path) -> Path:
    return shared_data / "w3c-web-annotation-tests"


def _registry(suite: Path) -> Registry:
    """Every schema file of the suite under its own file name, as the assertions' `$ref`s
    name them ("id.json#/definitions/...")."""
    resources = []
    for path in suite.rglob("*.json"):
        if "samples" in path.relative_to(suite).parts:
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and ("definitions" in document or "assertionType" in document):
            resources.append((path.name, Resource.from_contents(document, default_specification=DRAFT4)))
    return Registry().with_resources(resources)


def _assertions(suite: Path, test_file: str) -> list[dict]:
    listing = json.loads((suite / test_file).read_text(encoding="utf-8"))
    return [json.loads((suite / name).read_text(encoding="utf-8")) for name in listing["assertions"]]


def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _is_json_object(path: Path) -> bool:
    try:
        return isinstance(_read(path), dict)
    except ValueError:
        return False


def _multiple_target(annotation: dict) -> bool:
    target = annotation.get("target")
    return isinstance(target, dict) and target.get("type") in ("Composite", "List", "Independents")


def _failures(document: dict, assertions: list[dict], registry: Registry) -> list[str]:
    failed = []
    for assertion in assertions:
        schema = {k: v for k, v in assertion.items() if k != "id"}
        valid = Draft4Validator(schema, registry=registry).is_valid(document)
        expected = assertion.get("expectedResult", "valid") == "valid"
        if valid != expected:
            failed.append(f"{assertion['id']}: {assertion.get('errorMessage', '')}")
    return failed


@pytest.fixture
def suite(shared_data):
    return _suite_dir(shared_data)


@pytest.fixture
def exported(annotated):
    store = annotated[0]
    out = io.BytesIO()
    count = write_w3c(store, out)
    assert count > 0
    return json.loads(out.getvalue())


def test_the_harness_tells_good_samples_from_bad(suite):
    """The checks below can fail: the suite's own incorrect samples fail them."""
    registry = _registry(suite)
    musts = _assertions(suite, "annotations/annotationMusts.test")
    correct = sorted((suite / "samples" / "correct").glob("*.json"))
    incorrect = sorted((suite / "samples" / "incorrect").glob("*.json"))
    assert correct and incorrect
    # A Composite, List or Independents target matches two branches of the suite's own
    # `oneOf` in assertion 3.2, so those correct samples fail it (a quirk of the suite).
    plain = [p for p in correct if _read(p).get("type") == "Annotation" and not _multiple_target(_read(p))]
    assert len(plain) >= 20
    for path in plain:
        assert _failures(_read(path), musts, registry) == [], path.name
    failing = [p for p in incorrect if not _is_json_object(p) or _failures(_read(p), musts, registry)]
    assert len(failing) >= len(incorrect) // 2, "the MUST assertions reject the suite's incorrect samples"


def test_every_annotation_meets_every_must(suite, exported):
    registry = _registry(suite)
    musts = _assertions(suite, "annotations/annotationMusts.test")
    items = exported["first"]["items"]
    assert items
    for annotation in items:
        assert _failures(annotation, musts, registry) == [], annotation["id"]


def test_the_collection_and_its_page_meet_every_must(suite, exported):
    registry = _registry(suite)
    assert _failures(exported, _assertions(suite, "collections/collectionMusts.test"), registry) == []
    # "an Annotation Page, or an Annotation Collection with an embedded Page"
    assert _failures(exported, _assertions(suite, "collections/pages/pageMusts.test"), registry) == []
    page = exported["first"]
    assert page["partOf"] == exported["id"] and page["id"].startswith(exported["id"])
    assert exported["total"] == len(page["items"])


def test_ids_name_the_content(annotated):
    store = annotated[0]

    def collection_id() -> str:
        out = io.BytesIO()
        write_w3c(store, out)
        return json.loads(out.getvalue())["id"]

    first = collection_id()
    assert collection_id() == first  # the same content, the same id
    ids = annotated[1]
    store.set_label(ids[2], "bob", "stance", "discuss")
    assert collection_id() != first


def _offline_loader(suite: Path):
    context = json.loads((suite.parent / "w3c-web-annotation-tests" / "anno.jsonld").read_text(encoding="utf-8"))

    def load(url, options=None):
        if url.rstrip("/") not in (CONTEXT, CONTEXT.replace("http://", "https://")):
            raise jsonld.JsonLdError(f"offline: no document for {url}", "loading document failed")
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": context}

    return load


def test_json_ld_expansion_keeps_every_term(suite, exported):
    """Expanded with the model's context and compacted back, each annotation is what we
    wrote: no term we use is unknown to the context (JSON-LD drops unknown terms)."""
    loader = _offline_loader(suite)
    options = {"documentLoader": loader}
    for annotation in exported["first"]["items"]:
        expanded = jsonld.expand(copy.deepcopy(annotation), options)
        assert expanded and "http://www.w3.org/ns/oa#Annotation" in expanded[0]["@type"]
        compacted = jsonld.compact(expanded, CONTEXT, options)
        assert _normal(compacted) == _normal(annotation)


def _normal(value):
    """Compare JSON-LD documents the way JSON-LD does: one-element arrays are their element."""
    if isinstance(value, list):
        items = [_normal(v) for v in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value
