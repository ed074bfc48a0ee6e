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
        ("fields = [", "invalid TOML"),
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
    with pytest.raises(SchemeError, match="interval labels must be finite numbers such as 1, 2.5 or -3 \\(.high. is not\\)"):
        parse_scheme(field(kind='"interval"', labels='[{ value = "high", key = "h" }]'))


# --- hostile and malformed values: refused at the edge, shown only through for_terminal ---

ESC_TITLE = "\x1b]0;pwned\x07"
RAW_BYTES = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e", "\u200b")


def assert_terminal_safe(text: str) -> None:
    assert not any(raw in text for raw in RAW_BYTES), repr(text)
    assert "Traceback" not in text


def label(value="a", key="a", description=""):
    return f'{{ value = "{value}", key = "{key}", description = "{description}" }}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (field(labels=f"[{label(value='x' + ESC_TITLE)}]"),
         "fields.0.labels.0.value: label value 'x\\x1b]0;pwned\\x07' holds a control or format character"),
        (field(labels=f"[{label(value='safe' + chr(0x202e) + 'txt')}]"),
         "label value 'safe\\u202etxt' holds a control or format character"),
        (field(labels=f"[{label(description='fine' + ESC_TITLE)}]"),
         "fields.0.labels.0.description: description 'fine\\x1b]0;pwned\\x07' holds a control or format character"),
        (field(labels=f"[{label(description='two' + chr(10) + 'lines')}]".replace(chr(10), "\\n")),
         "description 'two\\x0alines' holds a control or format character (or a line break)"),
        (field(labels=f"[{label(key=ESC_TITLE)}]"),
         "fields.0.labels.0.key: key '\\x1b]0;pwned\\x07' holds a control or format character"),
        (field(labels=f"[{label(value='x' * 65)}]"), "label value is longer than 64 characters"),
        (field(labels=f"[{label(value='  ')}]"), "label value '  ' must be non-empty, with no spaces at either end"),
        (field(labels=f"[{label(value=' agree')}]"), "label value ' agree' must be non-empty"),
        (field(labels=f"[{label(description='d' * 201)}]"), "description is longer than 200 characters"),
        (f'name = "n{ESC_TITLE}"\n' + field(), "name: scheme name 'n\\x1b]0;pwned\\x07' holds a control"),
        (field(name=f"f{ESC_TITLE}"), "field name 'f\\x1b]0;pwned\\x07' must be a lower-case letter"),
        (field().replace('kind = "nominal"', f'kind = "nominal"\ndescription = "{ESC_TITLE}"'),
         "fields.0.description: description '\\x1b]0;pwned\\x07' holds a control"),
        # an unknown key is named by the error's location: the file's own (hostile) text
        (f'"k{ESC_TITLE}" = 1\n' + field(), "k\\x1b]0;pwned\\x07: Extra inputs are not permitted"),
    ],
)
def test_hostile_strings_are_refused_and_shown_escaped(text, message):
    with pytest.raises(SchemeError) as caught:
        parse_scheme(text.replace(ESC_TITLE, ESC_TITLE.replace("\x1b", "\\u001b").replace("\x07", "\\u0007")), "my.toml")
    assert message in str(caught.value)
    assert_terminal_safe(str(caught.value))


def test_the_origin_of_an_error_is_shown_escaped():
    with pytest.raises(SchemeError) as caught:
        parse_scheme("fields = []", f"evil{ESC_TITLE}.toml")
    assert str(caught.value) == "evil\\x1b]0;pwned\\x07.toml: the scheme has no fields"


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "+Infinity", "1e999", "-1e400", "1_000", " 1", "0x10", ""])
def test_interval_labels_must_be_finite_plain_numbers(value):
    labels = f'[{{ value = "1", key = "1" }}, {{ value = "{value}", key = "2" }}]'
    with pytest.raises(SchemeError) as caught:
        parse_scheme(field(kind='"interval"', labels=labels), "my.toml")
    assert "interval labels must be finite numbers" in str(caught.value) or "label value" in str(caught.value)


@pytest.mark.parametrize("value", ["0", "-3", "2.5", ".5", "7.", "1e2", "+4"])
def test_interval_labels_take_ordinary_numbers(value):
    labels = f'[{{ value = "{value}", key = "1" }}]'
    assert parse_scheme(field(kind='"interval"', labels=labels)).field("f").values == [value]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("escpae", "'escpae' is not a key name"),
        ("shift+a", "'shift+a' never arrives: shift with a character is reported as the character it types"),
        ("ctrl+A", "'ctrl+A' never arrives: with a modifier a letter is lower case (ctrl+shift+a)"),
        ("shift+ctrl+x", "'shift+ctrl+x' is spelled ctrl+shift+x by Textual"),
        ("ctrl+/", "'ctrl+/' is spelled ctrl+slash by Textual"),
        ("super+ctrl+ctrl+x", "'super+ctrl+ctrl+x' repeats a modifier"),
        ("cmd+x", "'cmd+x' has an unknown modifier"),
        ("ab", "'ab' is not a key name"),
        ("a b", "'a b' holds white space"),
        ("\\t", "'\\x09' holds a control or format character"),
        ("f99", "'f99' is not a key name"),
    ],
)
def test_label_keys_must_be_keys_textual_reports(key, reason):
    with pytest.raises(SchemeError) as caught:
        parse_scheme(field(labels=f"[{label(key=key)}]"), "my.toml")
    assert f"fields.0.labels.0.key: key {reason}" in str(caught.value)


@pytest.mark.parametrize("key", ["a", "A", "?", "question_mark", "+", "plus", "é", "ctrl+x", "alt+shift+a", "f5", "tab", "ctrl+shift+up", "comma"])
def test_label_keys_textual_reports_are_taken(key):
    assert parse_scheme(field(labels=f"[{label(key=key)}]")).field("f").labels[0].key == key


def test_two_spellings_of_one_key_are_one_key():
    labels = f"[{label(value='a', key='?')}, {label(value='b', key='question_mark')}]"
    with pytest.raises(SchemeError, match="duplicate field 'f': key 'question_mark' \\(the same key as '\\?'\\)"):
        parse_scheme(field(labels=labels))
    with pytest.raises(SchemeError, match="duplicate key 'plus' at the article level: f=a and g=a"):
        parse_scheme(field(labels=f"[{label(key='+')}]") + field(name="g", labels=f"[{label(key='plus')}]"))
    scheme = parse_scheme(field(labels=f"[{label(key='+')}]") + field(name="g", level='"claim"', labels=f"[{label(key='plus')}]"))
    assert scheme.by_key("claim", "+")[0].name == "g" and scheme.by_key("article", "plus")[0].name == "f"


def nested(depth: int) -> str:
    return "x = " + "[" * depth + "1" + "]" * depth + "\n"


@pytest.mark.parametrize("depth", [33, 300, 5000])
def test_deeply_nested_schemes_are_refused_with_a_reason(depth):
    with pytest.raises(SchemeError) as caught:
        parse_scheme(nested(depth) + field(), "deep.toml")
    assert str(caught.value) == "deep.toml: nested more than 32 levels deep"
