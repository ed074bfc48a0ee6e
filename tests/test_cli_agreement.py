"""`newsmark agreement` through the CLI: the worked examples of the literature, exact
JSON and terminal output, per-story scope, errors; then the database reopened."""

from __future__ import annotations

import json

from click.testing import CliRunner

from newsmark.schema.store import Store
from tests.test_agreement import K2011, add_articles
from newsmark.tui.cli import cli


def run(*args: str):
    return CliRunner(env={"COLUMNS": "100"}).invoke(cli, list(args))


def k2011_db(db_path) -> list[str]:
    """The Krippendorff (2011) data as credibility labels of 12 articles by coders A-D."""
    with Store.open(db_path) as store:
        ids = add_articles(store, 12, "k2011")
        for coder, line in K2011.items():
            for aid, value in zip(ids, line.split()):
                if value != ".":
                    store.set_label(aid, coder, "credibility", value)
    return ids


def kappa_db(db_path) -> list[str]:
    """50 articles, ann (rows) x bob (columns) on stance: [[20, 5], [10, 15]]."""
    cells = [("agree", "agree")] * 20 + [("agree", "disagree")] * 5 + [("disagree", "agree")] * 10
    cells += [("disagree", "disagree")] * 15
    with Store.open(db_path) as store:
        ids = add_articles(store, 50, "kappa")
        for aid, (ann, bob) in zip(ids, cells):
            store.set_label(aid, "ann", "stance", ann)
            store.set_label(aid, "bob", "stance", bob)
    return ids


def test_krippendorff_2011_through_the_cli(db_path):
    k2011_db(db_path)
    result = run("--db", str(db_path), "agreement", "--field", "credibility", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    credibility = document["fields"]["credibility"]
    assert round(credibility["alpha"], 3) == 0.815  # ordinal, the field's level
    assert round(credibility["alpha_nominal"], 3) == 0.743
    assert credibility == {
        "level": "ordinal",
        "alpha": 0.8154,
        "alpha_nominal": 0.7434,
        "units": 11,  # unit 12 has a single value, so it is not pairable
        "annotators": ["A", "B", "C", "D"],
        "pairwise": [
            {"a": "A", "b": "B", "kappa": 0.8448, "alpha": 0.9229, "n": 9},
            {"a": "A", "b": "C", "kappa": 0.4783, "alpha": 0.5312, "n": 8},
            {"a": "A", "b": "D", "kappa": 0.85, "alpha": 0.5886, "n": 9},
            {"a": "B", "b": "C", "kappa": 0.5424, "alpha": 0.7833, "n": 9},
            {"a": "B", "b": "D", "kappa": 0.8701, "alpha": 0.8768, "n": 10},
            {"a": "C", "b": "D", "kappa": 0.6154, "alpha": 0.8838, "n": 10},
        ],
    }
    assert list(document) == ["fields", "story", "cannot_judge", "claims"]
    with Store.open(db_path, create=False) as store:  # reading changed nothing
        assert store.conn.execute("SELECT count(*) FROM labels").fetchone()[0] == 41
        assert store.conn.execute("SELECT count(*) FROM gold").fetchone()[0] == 0


def test_pairwise_kappa_of_the_textbook_table_through_the_cli(db_path):
    kappa_db(db_path)
    result = run("--db", str(db_path), "agreement", "--field", "stance", "--pair", "ann", "bob", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["fields"] == {
        "stance": {
            # α = 1 - (n - 1) * 30 / (2 * 55 * 45) with n = 100 pairable values: 0.4 too.
            "level": "nominal", "alpha": 0.4, "alpha_nominal": 0.4, "units": 50,
            "annotators": ["ann", "bob"],
            "pairwise": [{"a": "ann", "b": "bob", "kappa": 0.4, "alpha": 0.4, "n": 50}],
        }
    }
    assert document["confusion"] == [{
        "field": "stance", "a": "ann", "b": "bob", "labels": ["agree", "disagree", "discuss", "unrelated"],
        "matrix": [[20, 5, 0, 0], [10, 15, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
    }]


def test_terminal_tables(db_path):
    kappa_db(db_path)
    result = run("--db", str(db_path), "agreement", "--field", "stance", "--pair", "ann", "bob")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Agreement by field, all stories                              \n"
        "┏━━━━━━━━┳━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━┓\n"
        "┃ field  ┃ level   ┃     α ┃ α nominal ┃ units ┃ annotators ┃\n"
        "┡━━━━━━━━╇━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━┩\n"
        "│ stance │ nominal │ 0.400 │     0.400 │    50 │ ann, bob   │\n"
        "└────────┴─────────┴───────┴───────────┴───────┴────────────┘\n"
        "α: Krippendorff's alpha over all annotators; units: articles with two or more labels; \"cannot be \n"
        "judged\" grades count as missing. – : undefined.\n"
        "Pairs on stance (nominal)             \n"
        "┏━━━━━┳━━━━━┳━━━━┳━━━━━━━━━━━┳━━━━━━━┓\n"
        "┃ a   ┃ b   ┃  n ┃ Cohen's κ ┃     α ┃\n"
        "┡━━━━━╇━━━━━╇━━━━╇━━━━━━━━━━━╇━━━━━━━┩\n"
        "│ ann │ bob │ 50 │     0.400 │ 0.400 │\n"
        "└─────┴─────┴────┴───────────┴───────┘\n"
        "Confusion on stance: rows ann, columns bob            \n"
        "┏━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━┓\n"
        "┃ ann \\ bob ┃ agree ┃ disagree ┃ discuss ┃ unrelated ┃\n"
        "┡━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━┩\n"
        "│ agree     │    20 │        5 │       0 │         0 │\n"
        "│ disagree  │    10 │       15 │       0 │         0 │\n"
        "│ discuss   │     0 │        0 │       0 │         0 │\n"
        "│ unrelated │     0 │        0 │       0 │         0 │\n"
        "└───────────┴───────┴──────────┴─────────┴───────────┘\n"
    )


def test_missing_labels_and_null_alpha(db_path):
    with Store.open(db_path) as store:
        ids = add_articles(store, 3)
        store.set_label(ids[0], "ann", "reliability", "F")
        store.set_label(ids[0], "bob", "reliability", "B")
        store.set_label(ids[1], "ann", "reliability", "B")
        store.set_label(ids[1], "bob", "reliability", "B")
        store.set_label(ids[2], "ann", "stance", "agree")
    result = run("--db", str(db_path), "agreement", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["fields"]["reliability"] == {
        "level": "ordinal", "alpha": None, "alpha_nominal": None, "units": 1, "annotators": ["ann", "bob"],
        "pairwise": [{"a": "ann", "b": "bob", "kappa": None, "alpha": None, "n": 1}],
    }
    assert document["fields"]["stance"] == {
        "level": "nominal", "alpha": None, "alpha_nominal": None, "units": 0, "annotators": ["ann"],
        "pairwise": [],
    }
    assert document["fields"]["credibility"]["annotators"] == []
    assert document["cannot_judge"] == {"reliability": {"ann": 1}}


def test_per_story_breakdown(db_path):
    kappa_db(db_path)
    with Store.open(db_path) as store:
        ids = add_articles(store, 2, "other")
        for aid in ids:
            store.set_label(aid, "ann", "stance", "agree")
            store.set_label(aid, "cat", "stance", "discuss")
    whole = json.loads(run("--db", str(db_path), "agreement", "--json").output)
    assert whole["fields"]["stance"]["annotators"] == ["ann", "bob", "cat"]
    assert whole["fields"]["stance"]["units"] == 52
    one = json.loads(run("--db", str(db_path), "agreement", "--story", "other", "--json").output)
    assert one["story"] == "other"
    # ann always "agree", cat always "discuss": systematic disagreement, α below zero.
    assert one["fields"]["stance"] == {
        "level": "nominal", "alpha": -0.5, "alpha_nominal": -0.5, "units": 2, "annotators": ["ann", "cat"],
        "pairwise": [{"a": "ann", "b": "cat", "kappa": 0.0, "alpha": -0.5, "n": 2}],
    }
    kappa = json.loads(run("--db", str(db_path), "agreement", "--story", "kappa", "--json").output)
    assert kappa["fields"]["stance"]["pairwise"][0]["kappa"] == 0.4


def test_claim_spans_in_the_report(db_path):
    with Store.open(db_path) as store:
        ids = add_articles(store, 1)
        store.add_claim(ids[0], "ann", 0, 10)
        store.add_claim(ids[0], "bob", 0, 10)
        store.add_claim(ids[0], "bob", 12, 20)
    document = json.loads(run("--db", str(db_path), "agreement", "--json").output)
    assert document["claims"] == {
        "annotators": ["ann", "bob"],
        "pairwise": [{"a": "ann", "b": "bob", "articles": 1, "a_spans": 1, "b_spans": 2, "exact_matches": 1,
                      "exact_f1": 0.6667, "overlap_f1": 0.6667}],
    }


def test_errors_are_one_line(db_path, tmp_path):
    kappa_db(db_path)
    cases = [
        (("--field", "bogus"), "Error: unknown field 'bogus' (article-level fields: stance, reliability, credibility)\n"),
        (("--field", "checkworthy"), "Error: 'checkworthy' is a claim-level field; agreement covers article-level "
                                     "fields (claims are compared by their spans)\n"),
        (("--story", "nope"), "Error: no story 'nope'\n"),
        (("--pair", "ann", "zed"), "Error: no annotator 'zed' in this database\n"),
        (("--pair", "ann", "ann"), "Error: --pair needs two different annotators (got 'ann' twice)\n"),
    ]
    for args, message in cases:
        result = run("--db", str(db_path), "agreement", *args)
        assert (result.exit_code, result.output) == (1, message)
    missing = run("--db", str(tmp_path / "none.db"), "agreement")
    assert missing.exit_code == 1 and missing.output.startswith("Error: no database at ")
    assert run("--db", str(db_path), "agreement", "--pair", "ann").exit_code == 2


def test_untrusted_names_are_not_markup(db_path):
    with Store.open(db_path) as store:
        ids = add_articles(store, 2)
        for aid in ids:
            store.set_label(aid, "[bold]x[/bold]", "stance", "agree")
            store.set_label(aid, "[@click=app.quit]", "stance", "agree")
    result = run("--db", str(db_path), "agreement", "--field", "stance")
    assert result.exit_code == 0, result.output
    assert "[@click=app.quit], [bold]x[/bold]" in result.output


def test_krippendorff_2011_interval_through_the_cli(db_path, tmp_path):
    """A custom scheme with an interval field holding the same values gives the
    published interval α (0.849) and, at the nominal level, 0.743."""
    scheme = tmp_path / "interval.toml"
    labels = ", ".join(f'{{ value = "{v}", key = "{v}" }}' for v in "12345")
    scheme.write_text(f'[[fields]]\nname = "severity"\nlevel = "article"\nkind = "interval"\nlabels = [{labels}]\n')
    assert run("--db", str(db_path), "init", "--scheme", str(scheme)).exit_code == 0
    with Store.open(db_path) as store:
        ids = add_articles(store, 12, "k2011")
        for coder, line in K2011.items():
            for aid, value in zip(ids, line.split()):
                if value != ".":
                    store.set_label(aid, coder, "severity", value)
    result = run("--db", str(db_path), "agreement", "--json")
    assert result.exit_code == 0, result.output
    severity = json.loads(result.output)["fields"]["severity"]
    assert (severity["level"], severity["alpha"], severity["alpha_nominal"]) == ("interval", 0.8491, 0.7434)


def test_interval_distances_are_the_label_values_not_their_ranks():
    import numpy as np

    from newsmark.analysis.agreement import alpha_from_coincidences, krippendorff_alpha

    counts = np.array([[2, 0, 0], [0, 1, 1], [1, 0, 1], [0, 2, 0]])
    by_rank = krippendorff_alpha(counts, "interval")
    by_value = krippendorff_alpha(counts, "interval", np.array([0.0, 1.0, 10.0]))
    assert by_rank != by_value
    table = np.array([[3, 1, 0], [1, 2, 1], [0, 1, 3]])
    assert alpha_from_coincidences(table, "interval", np.array([0.0, 1.0, 10.0])) != alpha_from_coincidences(table, "interval")
