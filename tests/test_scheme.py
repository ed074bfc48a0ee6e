"""Scheme parsing and validation: clear errors for every kind of mistake."""

from __future__ import annotations

import pytest

from newsmark.schema.scheme import SchemeError, default_scheme, parse_scheme


def field(name="f", level='"article"', kind='"nominal"', labels='[{ value = "a", key = "a" }]'):
    return f"[[fields]]\nname = \"{name}\"\nlevel = {level}\nkind = {kind}\nlabels = {labels}\n"


def test_default_scheme_has_the_admiralty_wording():
    scheme = default_scheme()
    reliability = scheme.field("reliability")
    assert [(lab.key, lab.description) for lab in reliability.labels][:2] == [
        ("A", "completely reliable"),
        ("B", "usually reliable"),
    ]
    assert reliability.label("F").missing and scheme.field("credibility").label("6").missing
    assert scheme.field("credibility").level == ["article", "claim"]
    assert scheme.by_key("claim", "+")[1].value == "yes"
    assert scheme.by_key("article", "+") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (field(labels="[]"), "fields.0: Value error, field 'f': the list of labels is empty".replace("Value error, ", "")),
        (field(level='"sentence"'), "fields.0.level.0: Input should be 'article' or 'claim'"),
        (field(kind='"ratio"'), "fields.0.kind: Input should be 'nominal', 'ordinal' or 'interval'"),
        (field(labels='[{ value = "a", key = "k" }, { value = "b", key = "k" }]'), "duplicate field 'f': key 'k'"),
        (field() + field(name="g"), "duplicate key 'a' at the article level: f=a and g=a"),
        (field() + field(), "duplicate field name 'f'"),
        ("fields = []", "the scheme has no fields"),
        ("fields = [", "not valid TOML"),
    ],
)
def test_bad_schemes_get_clear_errors(text, message):
    with pytest.raises(SchemeError) as caught:
        parse_scheme(text, "my.toml")
    assert str(caught.value).startswith("my.toml: ")
    assert message in str(caught.value)


def test_same_key_at_different_levels_is_allowed():
    scheme = parse_scheme(field() + field(name="g", level='"claim"'))
    assert scheme.by_key("claim", "a")[0].name == "g"


def test_interval_fields_need_numeric_labels():
    labels = '[{ value = "1", key = "1" }, { value = "2.5", key = "2" }, { value = "n/a", key = "n", missing = true }]'
    assert parse_scheme(field(kind='"interval"', labels=labels)).field("f").kind == "interval"
    with pytest.raises(SchemeError, match="interval labels must be numbers \\('high' is not\\)"):
        parse_scheme(field(kind='"interval"', labels='[{ value = "high", key = "h" }]'))
