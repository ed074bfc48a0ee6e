"""`newsmark agreement` through the CLI: the worked examples of the literature, exact
JSON and terminal output, per-story scope, errors; then the database reopened."""

from __future__ import annotations

import json

from click.testing import CliRunner

from newsmark.schema.store import Store
from tests.test_agreement import K2011, add_articles
from newsmark.tui.cli import cli

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)


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
        # KALPHA's bootstrap, 1,000 resamples, seed 0 (checked against an independent
        # resampling loop in tests/test_agreement_bootstrap.py).
        "alpha_ci": [0.6103, 0.9262],
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
        "distribution": {  # how often each coder used each label, columns of Krippendorff's table
            "A": {"1": 3, "2": 3, "3": 2, "4": 1, "5": 0, "6": 0},
            "B": {"1": 2, "2": 4, "3": 3, "4": 1, "5": 1, "6": 0},
            "C": {"1": 1, "2": 3, "3": 4, "4": 1, "5": 1, "6": 0},
            "D": {"1": 3, "2": 3, "3": 2, "4": 2, "5": 1, "6": 0},
        },
    }
    assert list(document) == ["fields", "story", "cannot_judge", "claims", "bootstrap", "stories"]
    assert document["bootstrap"] == {"resamples": 1000, "seed": 0, "confidence": 0.95}
    assert document["stories"] is None
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
            "level": "nominal", "alpha": 0.4, "alpha_ci": [0.12, 0.64], "alpha_nominal": 0.4, "units": 50,
            "annotators": ["ann", "bob"],
            "pairwise": [{"a": "ann", "b": "bob", "kappa": 0.4, "alpha": 0.4, "n": 50}],
            "distribution": {"ann": {"agree": 25, "disagree": 25, "discuss": 0, "unrelated": 0},
                             "bob": {"agree": 30, "disagree": 20, "discuss": 0, "unrelated": 0}},
        }
    }
    # FNC-1 with bob as the reference: 20 + 15 right stances (1.0 each), 15 related but
    # wrong (0.25 each) = 38.75 of 50 (every one of bob's labels is related).
    assert document["confusion"] == [{
        "field": "stance", "a": "ann", "b": "bob", "labels": ["agree", "disagree", "discuss", "unrelated"],
        "matrix": [[20, 5, 0, 0], [10, 15, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
        "n": 50, "kappa": 0.4, "alpha": 0.4,
        "fnc1": {"score": 38.75, "max_score": 50.0, "relative": 0.775, "pairs": 50},
    }]


def test_terminal_tables(db_path):
    kappa_db(db_path)
    result = run("--db", str(db_path), "agreement", "--field", "stance", "--pair", "ann", "bob")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Agreement by field, all stories                                               \n"
        "┏━━━━━━━━┳━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━┓\n"
        "┃ field  ┃ level   ┃     α ┃         95% CI ┃ α nominal ┃ units ┃ annotators ┃\n"
        "┡━━━━━━━━╇━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━┩\n"
        "│ stance │ nominal │ 0.400 │ 0.120 to 0.640 │     0.400 │    50 │ ann, bob   │\n"
        "└────────┴─────────┴───────┴────────────────┴───────────┴───────┴────────────┘\n"
        "α: Krippendorff's alpha over all annotators; units: articles with two or more labels; \"cannot be \n"
        "judged\" grades count as missing. – : undefined. 95% CI: bootstrap of 1,000 resamples (Hayes & \n"
        "Krippendorff 2007), seed 0.\n"
        "Pairs on stance (nominal)             \n"
        "┏━━━━━┳━━━━━┳━━━━┳━━━━━━━━━━━┳━━━━━━━┓\n"
        "┃ a   ┃ b   ┃  n ┃ Cohen's κ ┃     α ┃\n"
        "┡━━━━━╇━━━━━╇━━━━╇━━━━━━━━━━━╇━━━━━━━┩\n"
        "│ ann │ bob │ 50 │     0.400 │ 0.400 │\n"
        "└─────┴─────┴────┴───────────┴───────┘\n"
        "Labels by annotator on stance                                 \n"
        "┏━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━┓\n"
        "┃ annotator ┃ agree ┃ disagree ┃ discuss ┃ unrelated ┃ total ┃\n"
        "┡━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━┩\n"
        "│ ann       │    25 │       25 │       0 │         0 │    50 │\n"
        "│ bob       │    30 │       20 │       0 │         0 │    50 │\n"
        "└───────────┴───────┴──────────┴─────────┴───────────┴───────┘\n"
        "Confusion on stance: rows ann, columns bob            \n"
        "┏━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━┓\n"
        "┃ ann \\ bob ┃ agree ┃ disagree ┃ discuss ┃ unrelated ┃\n"
        "┡━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━┩\n"
        "│ agree     │    20 │        5 │       0 │         0 │\n"
        "│ disagree  │    10 │       15 │       0 │         0 │\n"
        "│ discuss   │     0 │        0 │       0 │         0 │\n"
        "│ unrelated │     0 │        0 │       0 │         0 │\n"
        "└───────────┴───────┴──────────┴─────────┴───────────┘\n"
        "ann and bob on stance: n 50, Cohen's κ 0.400, α 0.400; FNC-1 score of ann against bob: 38.75 of \n"
        "50.00 (0.775)\n"
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
        "level": "ordinal", "alpha": None, "alpha_ci": None, "alpha_nominal": None, "units": 1,
        "annotators": ["ann", "bob"],
        "pairwise": [{"a": "ann", "b": "bob", "kappa": None, "alpha": None, "n": 1}],
        "distribution": {"ann": {"A": 0, "B": 1, "C": 0, "D": 0, "E": 0, "F": 1},
                         "bob": {"A": 0, "B": 2, "C": 0, "D": 0, "E": 0, "F": 0}},
    }
    assert document["fields"]["stance"] == {
        "level": "nominal", "alpha": None, "alpha_ci": None, "alpha_nominal": None, "units": 0,
        "annotators": ["ann"], "pairwise": [],
        "distribution": {"ann": {"agree": 1, "disagree": 0, "discuss": 0, "unrelated": 0}},
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
    # ann always "agree", cat always "discuss": systematic disagreement, α below zero; every
    # pair of values is (agree, discuss), so every resample gives the same α.
    assert one["fields"]["stance"] == {
        "level": "nominal", "alpha": -0.5, "alpha_ci": [-0.5, -0.5], "alpha_nominal": -0.5, "units": 2,
        "annotators": ["ann", "cat"],
        "pairwise": [{"a": "ann", "b": "cat", "kappa": 0.0, "alpha": -0.5, "n": 2}],
        "distribution": {"ann": {"agree": 2, "disagree": 0, "discuss": 0, "unrelated": 0},
                         "cat": {"agree": 0, "disagree": 0, "discuss": 2, "unrelated": 0}},
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
        (("--pair", "gold", "ann"), "Error: gold can only be B in --pair A B (the reference A is scored against)\n"),
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


def gold_db(db_path) -> list[str]:
    """Five articles with gold stances; ann's and bob's own labels of them."""
    gold = ["agree", "disagree", "discuss", "unrelated", "unrelated"]
    ann = ["agree", "discuss", "unrelated", "unrelated", "agree"]
    bob = ["agree", "disagree", "discuss", "discuss", "unrelated"]
    with Store.open(db_path) as store:
        ids = add_articles(store, 5, "gold")
        for aid, g, a, b in zip(ids, gold, ann, bob):
            store.set_gold(aid, "stance", g, by="lead")
            store.set_label(aid, "ann", "stance", a)
            store.set_label(aid, "bob", "stance", b)
        store.set_gold(ids[0], "reliability", "B", by="lead")
        store.set_label(ids[0], "ann", "reliability", "B")
    return ids


def test_pair_against_gold_gives_kappa_alpha_and_the_fnc1_score(db_path):
    gold_db(db_path)
    result = run("--db", str(db_path), "agreement", "--pair", "ann", "gold", "--field", "stance",
                 "--field", "reliability", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["fields"]["stance"]["annotators"] == ["ann", "bob"]  # gold is no annotator in α
    stance, reliability = document["confusion"]
    # ann against gold: two right (1 + 0.25: agree related, unrelated unrelated), one
    # related but wrong (0.25), two wrong across related/unrelated (0): 1.5 of the
    # best possible 3 x 1.0 + 2 x 0.25 = 3.5. κ: observed 2/5, chance 7/25, so 0.12/0.72.
    # α: 10 values (agree 3, disagree 1, discuss 2, unrelated 4), 3 units in
    # disagreement: 1 - 9 x 6 / (100 - 9 - 1 - 4 - 16) = 1 - 54/70.
    assert stance == {
        "field": "stance", "a": "ann", "b": "gold", "labels": ["agree", "disagree", "discuss", "unrelated"],
        "matrix": [[1, 0, 0, 1], [0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]],
        "n": 5, "kappa": 0.1667, "alpha": 0.2286,
        "fnc1": {"score": 1.5, "max_score": 3.5, "relative": 0.4286, "pairs": 5},
    }
    # Not FNC-1's labels: no score; one article, one value: κ and α undefined.
    assert (reliability["n"], reliability["kappa"], reliability["fnc1"]) == (1, None, None)
    text = run("--db", str(db_path), "agreement", "--pair", "ann", "gold", "--field", "stance")
    assert text.exit_code == 0, text.output
    assert text.output.endswith(
        "ann and gold on stance: n 5, Cohen's κ 0.167, α 0.229; FNC-1 score of ann against gold: 1.50 of 3.50\n"
        "(0.429)\n"
    )
    with Store.open(db_path, create=False) as store:  # reading changed nothing
        assert store.conn.execute("SELECT count(*) FROM gold").fetchone()[0] == 6
        assert store.conn.execute("SELECT count(*) FROM labels").fetchone()[0] == 11


def test_by_story_figures_are_each_storys_own(db_path):
    kappa_db(db_path)
    with Store.open(db_path) as store:
        ids = add_articles(store, 2, "other")
        for aid in ids:
            store.set_label(aid, "ann", "stance", "agree")
            store.set_label(aid, "cat", "stance", "discuss")
    result = run("--db", str(db_path), "agreement", "--by-story", "--json")
    assert result.exit_code == 0, result.output
    stories = json.loads(result.output)["stories"]
    assert list(stories) == ["kappa", "other"]
    for story in stories:  # the same figures as --story gives, interval included
        alone = json.loads(run("--db", str(db_path), "agreement", "--story", story, "--json").output)
        assert stories[story] == alone["fields"]
    assert stories["other"]["stance"]["alpha"] == -0.5
    text = run("--db", str(db_path), "agreement", "--field", "stance", "--by-story", "--resamples", "0")
    assert text.exit_code == 0, text.output
    assert (
        "95% CI: not drawn (--resamples 0).\n"
        "Agreement by story                                       \n"
        "┏━━━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━┓\n"
        "┃ story ┃ field  ┃      α ┃ 95% CI ┃ units ┃ annotators ┃\n"
        "┡━━━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━┩\n"
        "│ kappa │ stance │  0.400 │      – │    50 │ ann, bob   │\n"
        "│ other │ stance │ -0.500 │      – │     2 │ ann, cat   │\n"
        "└───────┴────────┴────────┴────────┴───────┴────────────┘\n"
    ) in text.output


def test_the_interval_is_seeded_and_its_resamples_configurable(db_path):
    k2011_db(db_path)
    args = ("--db", str(db_path), "agreement", "--field", "credibility", "--json")
    first, again = run(*args), run(*args)
    assert first.exit_code == 0 and first.output == again.output
    other_seed = json.loads(run(*args, "--seed", "1").output)
    assert other_seed["fields"]["credibility"]["alpha_ci"] != json.loads(first.output)["fields"]["credibility"]["alpha_ci"]
    assert other_seed["bootstrap"] == {"resamples": 1000, "seed": 1, "confidence": 0.95}
    many = json.loads(run(*args, "--resamples", "20000").output)["fields"]["credibility"]["alpha_ci"]
    assert many[0] < 0.8154 < many[1]
    none = json.loads(run(*args, "--resamples", "0").output)
    assert none["fields"]["credibility"]["alpha_ci"] is None and none["bootstrap"]["resamples"] == 0
    assert none["fields"]["credibility"]["alpha"] == 0.8154
    assert run(*args, "--resamples", "-1").exit_code == 2


def test_label_names_in_the_counts_table_are_not_markup(db_path, tmp_path):
    scheme = tmp_path / "markup.toml"
    scheme.write_text('[[fields]]\nname = "tone"\nlevel = "article"\nkind = "nominal"\n'
                      'labels = [{ value = "[red]hot[/red]", key = "1" }, { value = "cold", key = "2" }]\n')
    assert run("--db", str(db_path), "init", "--scheme", str(scheme)).exit_code == 0
    with Store.open(db_path) as store:
        ids = add_articles(store, 2)
        store.set_label(ids[0], "ann", "tone", "[red]hot[/red]")
        store.set_label(ids[1], "ann", "tone", "cold")
    result = run("--db", str(db_path), "agreement")
    assert result.exit_code == 0, result.output
    assert "┃ annotator ┃ [red]hot[/red] ┃ cold ┃ total ┃" in result.output
    assert "│ ann       │              1 │    1 │     2 │" in result.output
