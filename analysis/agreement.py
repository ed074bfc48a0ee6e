"""Inter-annotator agreement over the article-level fields of the scheme.

For every article-level field this computes

- Krippendorff's α at the field's level of measurement (the scheme's `kind`: nominal or
  ordinal) and at the nominal level, over all annotators (the `krippendorff` package does
  the arithmetic; we build its value-count matrix straight from SQL rows with numpy);
- for every pair of annotators, over the articles both labelled: Cohen's κ (unweighted)
  and Krippendorff's α at the field's level, with `n` the number of those articles;
- a 95% bootstrap interval of the field-level α (analysis/bootstrap.py: Hayes &
  Krippendorff 2007, seeded, so the same data give the same interval);
- how many times each annotator used each label;
- on request, the confusion matrix, κ and α of one pair, where the second may be the
  gold labels, and the first's FNC-1 score against the second on a field with FNC-1's
  labels; and the same figures story by story.

Units are articles; coders are annotators; a unit's values are the annotators' labels.
Units are read in one place (`_read_codes`), so that a unit can become a (story,
article) pair there alone.

"Cannot be judged" labels (scheme labels with `missing = true`: reliability F,
credibility 6) are treated as missing values by every agreement figure here: the
ordinal α (where they have no place on the scale), the nominal α, Cohen's κ and the
pairwise α alike. So `alpha` and `alpha_nominal` are computed over exactly the same
values and differ only in the distance between labels, and `n` counts the articles both
annotators placed on the scale. How often each annotator chose "cannot be judged" is
reported separately (`cannot_judge`), and the confusion matrix of a pair shows those
labels as rows and columns of their own, so the abstentions are not hidden.

α is None where it is undefined: fewer than two pairable values (no article with two
or more values), or no variation (every pairable value the same, so the expected
disagreement is zero). κ is None when the pair shares no article, or when chance
agreement is 1 (both annotators used one and the same label throughout).

Reproduces Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the
4 coders x 12 units example: nominal α = 0.743, ordinal α = 0.815, interval α = 0.849
(tests/test_agreement.py and tests/test_cli_agreement.py).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import krippendorff
import numpy as np

from newsmark.analysis.bootstrap import CONFIDENCE, DEFAULT_RESAMPLES, DEFAULT_SEED, AlphaInterval, alpha_interval
from newsmark.analysis.fnc1 import FNC1Score, fnc1_score_of_counts, is_fnc1_scale
from newsmark.analysis.spans import SpanPairAgreement, span_agreement
from newsmark.schema.scheme import SchemeField
from newsmark.schema.store import Store, StoreError

ROUND = 4  # decimals of every float in the JSON report
ABSENT = -1  # code of "this annotator did not label this article" in a label matrix


# --- the statistics ---------------------------------------------------------------------


def krippendorff_alpha(value_counts: np.ndarray, level: str, values: np.ndarray | None = None) -> float | None:
    """Krippendorff's α from a units x values count matrix (values in scale order).

    `level` is "nominal", "ordinal" or "interval"; interval distances use `values` (the
    numbers the columns stand for), else the column index. Returns None where α is
    undefined: fewer than two pairable values, or no variation among them.
    """
    counts = np.asarray(value_counts)
    if counts.ndim != 2 or counts.shape[1] < 2:
        return None
    pairable = counts[counts.sum(axis=1) >= 2]
    if pairable.shape[0] == 0:
        return None
    if np.count_nonzero(pairable.sum(axis=0)) < 2:
        return None  # no variation: the expected disagreement is zero
    value = krippendorff.alpha(
        value_counts=pairable,
        value_domain=values if level == "interval" and values is not None else np.arange(counts.shape[1]),
        level_of_measurement=level,
    )
    value = float(value)
    return None if np.isnan(value) else value


def alpha_from_coincidences(coincidences: np.ndarray, level: str, values: np.ndarray | None = None) -> float | None:
    """Krippendorff's α from a coincidence matrix (values in scale order).

    Used for pairs of annotators, where the coincidence matrix is simply the contingency
    table plus its transpose: far cheaper than handing the package one row per article.
    Tests check it against `krippendorff.alpha` on random data at every level.
    """
    o = np.asarray(coincidences, dtype=np.float64)
    n_v = o.sum(axis=0)
    n = n_v.sum()
    if n < 2 or np.count_nonzero(n_v) < 2:
        return None
    delta = distance_matrix(n_v, level, values)
    expected = (np.outer(n_v, n_v) * delta).sum()
    if expected == 0:
        return None
    return float(1.0 - (n - 1) * (o * delta).sum() / expected)


def distance_matrix(margins: np.ndarray, level: str, values: np.ndarray | None = None) -> np.ndarray:
    """Krippendorff's δ² between every two values (in scale order) at a level of
    measurement; ordinal distances come from `margins` (how often each value was used),
    interval ones from `values` (else the column index)."""
    n_v = np.asarray(margins, dtype=np.float64)
    index = np.arange(len(n_v))
    if level == "nominal":
        return (index[:, None] != index[None, :]).astype(np.float64)
    if level == "ordinal":
        low, high = np.minimum.outer(index, index), np.maximum.outer(index, index)
        cumulative = np.concatenate(([0.0], np.cumsum(n_v)))
        return (cumulative[high + 1] - cumulative[low] - (n_v[low] + n_v[high]) / 2) ** 2
    if level == "interval":
        points = np.asarray(values, dtype=np.float64) if values is not None else index.astype(np.float64)
        return (points[:, None] - points[None, :]) ** 2
    raise ValueError(f"unknown level of measurement {level!r}")


def cohen_kappa(table: np.ndarray) -> float | None:
    """Cohen's κ from a square contingency table (rows: annotator a, columns: b).

    None when the table is empty or chance agreement is 1.
    """
    table = np.asarray(table, dtype=np.float64)
    total = table.sum()
    if total == 0:
        return None
    observed = np.trace(table) / total
    expected = float((table.sum(axis=1) * table.sum(axis=0)).sum() / (total * total))
    if expected >= 1.0:
        return None
    return float((observed - expected) / (1.0 - expected))


# --- reading labels ---------------------------------------------------------------------


@dataclass
class LabelMatrix:
    """One field's labels as an annotators x units matrix of label indices.

    Units follow the field's scope: articles for an article-scoped field, (story, article)
    pairs named `story/article` for a story-scoped one (`articles[j]` holds the unit's
    name). `codes[i, j]` is the index (in scheme order) of the label
    annotator i gave unit j, or ABSENT. `scale[k]` is label k's position on the
    agreement scale (its index among the labels that are not "cannot be judged"), or -1
    for a "cannot be judged" label. `stories[j]` is unit j's story (when read with the
    stories); `gold[j]` the adjudicated label's index, or ABSENT (when read with gold).
    """

    field: SchemeField
    annotators: list[str]
    articles: list[str]
    codes: np.ndarray
    scale: np.ndarray
    stories: np.ndarray | None = None
    gold: np.ndarray | None = None

    @property
    def scale_size(self) -> int:
        """How many labels sit on the scale (the labels that are not missing)."""
        return int((self.scale >= 0).sum())

    def scaled(self, codes: np.ndarray | None = None) -> np.ndarray:
        """The matrix (or `codes`) in scale positions: -1 for absent and "cannot be
        judged" alike."""
        lookup = np.append(self.scale, -1)  # index -1 (ABSENT) reads the appended -1
        return lookup[self.codes if codes is None else codes]

    def of_story(self, story: str) -> LabelMatrix:
        """The units of one story (read with the stories), and the annotators who
        labelled any of them."""
        assert self.stories is not None, "read the labels with their stories"
        keep = self.stories == story
        codes = self.codes[:, keep]
        labelled = (codes != ABSENT).any(axis=1)
        return LabelMatrix(
            self.field,
            [name for name, present in zip(self.annotators, labelled) if present],
            [self.articles[index] for index in np.flatnonzero(keep)],
            codes[labelled],
            self.scale,
            self.stories[keep],
            None if self.gold is None else self.gold[keep],
        )


def read_labels(store: Store, fld: SchemeField, story: str | None = None) -> LabelMatrix:
    """Every annotator's labels of one article-level field (of one story's articles)."""
    return read_label_matrices(store, [fld], story)[fld.name]


def read_label_matrices(
    store: Store, fields: list[SchemeField], story: str | None = None, *, stories: bool = False, gold: bool = False
) -> dict[str, LabelMatrix]:
    """Every annotator's labels of several article-level fields, in one pass over the table
    (with `stories`, each unit's story too; with `gold`, the adjudicated labels).

    For speed SQLite encodes each label as one integer (annotator, field and label
    numbered by CASE expressions over bound parameters) and concatenates them per article
    into a single string, which numpy parses in C: no Python object per label.
    """
    if not fields:
        return {}
    annotators = store.annotators()
    if not annotators and not gold:  # nobody has annotated: there can be no labels to read
        return {fld.name: _empty(fld) for fld in fields}
    matrices = _read_codes(store, fields, annotators, story, stories, gold)
    if matrices is None:  # labels by someone without an annotation row: number them all
        annotators = store.label_annotators()
        matrices = _read_codes(store, fields, annotators, story, stories, gold)
        assert matrices is not None
    return matrices


# The gold labels' coder inside the query: check_name lets no annotator name hold a
# control character (and PostgreSQL's text holds no NUL, so not that one).
_GOLD_CODER = "\x1fgold"


def _read_codes(
    store: Store, fields: list[SchemeField], annotators: list[str], story: str | None, stories: bool, gold: bool
) -> dict[str, LabelMatrix] | None:
    """The one place where units are read: the label rows as codes (`Store.label_codes`), decoded."""
    coders = annotators + [_GOLD_CODER] if gold else annotators
    pairs = [(fld.name, value) for fld in fields for value in fld.values]
    offsets, position = {}, 0
    for fld in fields:
        offsets[fld.name] = position
        position += len(fld.values)
    base = max(len(pairs), 1)
    unknown = len(coders)  # the code of an annotator missing from the list
    # A label's code: its coder's index times `base`, plus its value's offset among all fields' values.
    joined, article_list, story_list = store.label_codes(
        {fld.name: {value: offsets[fld.name] + index for index, value in enumerate(fld.values)} for fld in fields},
        {name: index for index, name in enumerate(coders)}, unknown, base,
        story=story, stories=stories, gold_coder=_GOLD_CODER if gold else None)
    if not joined:
        return {fld.name: _empty(fld) for fld in fields}
    flat = np.fromstring(joined, dtype=np.int64, sep=",")
    separator = flat == -1
    unit = np.cumsum(separator)[~separator]
    flat = flat[~separator]
    coder, label = flat // base, flat % base
    if (coder == unknown).any():
        return None
    articles = np.array(article_list.split(","))
    unit_stories = np.array(story_list.split(",")) if stories else None
    per_story = np.char.find(articles, "/") >= 0  # units of (story, article)
    story_fields = store.scheme.story_fields()
    result = {}
    for fld in fields:
        low = offsets[fld.name]
        mine = (label >= low) & (label < low + len(fld.values))
        codes = np.full((len(coders), len(articles)), ABSENT, dtype=np.int16)
        codes[coder[mine], unit[mine]] = (label[mine] - low).astype(np.int16)
        keep = per_story if fld.name in story_fields else ~per_story  # the field's own units
        codes = codes[:, keep]
        gold_row = codes[-1] if gold else None
        present = np.unique(coder[mine])
        present = present[present < len(annotators)]
        result[fld.name] = LabelMatrix(
            fld, [annotators[i] for i in present], articles[keep].tolist(), codes[present], _scale(fld),
            None if unit_stories is None else unit_stories[keep], gold_row,
        )
    return result


def _empty(fld: SchemeField) -> LabelMatrix:
    nothing = np.zeros(0, dtype=np.int16)
    return LabelMatrix(fld, [], [], np.zeros((0, 0), dtype=np.int16), _scale(fld), nothing.astype(str), nothing)


def _scale(fld: SchemeField) -> np.ndarray:
    scale = np.full(len(fld.labels), -1, dtype=np.int16)
    position = 0
    for index, lab in enumerate(fld.labels):
        if not lab.missing:
            scale[index] = position
            position += 1
    return scale


# --- the report -------------------------------------------------------------------------

GOLD = "gold"  # the second of `--pair A B` may be the adjudicated labels


@dataclass
class PairAgreement:
    """Agreement of two annotators on one field over the articles both labelled."""

    a: str
    b: str
    kappa: float | None
    alpha: float | None
    n: int


@dataclass
class FieldAgreement:
    """Agreement on one article-level field."""

    name: str
    level: str
    alpha: float | None
    alpha_ci: AlphaInterval | None
    alpha_nominal: float | None
    units: int
    annotators: list[str]
    pairwise: list[PairAgreement]
    cannot_judge: dict[str, int]
    distribution: dict[str, dict[str, int]]

    def to_json(self) -> dict[str, Any]:
        """The field's object in `agreement --json` (under `fields`, and per story)."""
        return {
            "level": self.level,
            "alpha": _round(self.alpha),
            "alpha_ci": None if self.alpha_ci is None else [_round(self.alpha_ci.low), _round(self.alpha_ci.high)],
            "alpha_nominal": _round(self.alpha_nominal),
            "units": self.units,
            "annotators": self.annotators,
            "pairwise": [
                {"a": p.a, "b": p.b, "kappa": _round(p.kappa), "alpha": _round(p.alpha), "n": p.n}
                for p in self.pairwise
            ],
            "distribution": self.distribution,
        }


@dataclass
class Confusion:
    """How one annotator's labels (rows) meet another's or gold's (columns) on the same
    articles, with the pair's κ and α over the `n` of them both placed on the scale and,
    for a field with FNC-1's labels, a's FNC-1 score with b as the reference."""

    field: str
    a: str
    b: str
    labels: list[str]
    matrix: list[list[int]]
    n: int = 0
    kappa: float | None = None
    alpha: float | None = None
    fnc1: FNC1Score | None = None

    def to_json(self) -> dict[str, Any]:
        """The pair's object in `agreement --pair A B --json` (under `confusion`)."""
        fnc1 = None
        if self.fnc1 is not None:
            fnc1 = {"score": self.fnc1.score, "max_score": self.fnc1.max_score,
                    "relative": _round(self.fnc1.relative), "pairs": self.fnc1.pairs}
        return {"field": self.field, "a": self.a, "b": self.b, "labels": self.labels, "matrix": self.matrix,
                "n": self.n, "kappa": _round(self.kappa), "alpha": _round(self.alpha), "fnc1": fnc1}


@dataclass
class AgreementReport:
    """Everything `newsmark agreement` reports."""

    story: str | None
    fields: dict[str, FieldAgreement]
    claims: list[SpanPairAgreement]
    claim_annotators: list[str]
    confusion: list[Confusion] = field(default_factory=list)
    stories: dict[str, dict[str, FieldAgreement]] | None = None
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED

    def to_json(self) -> dict[str, Any]:
        """The `agreement --json` document (DESIGN.md's keys, then our extra top-level keys)."""
        document: dict[str, Any] = {"fields": {name: fa.to_json() for name, fa in self.fields.items()}, "story": self.story}
        document["cannot_judge"] = {name: fa.cannot_judge for name, fa in self.fields.items() if fa.cannot_judge}
        document["claims"] = {
            "annotators": self.claim_annotators,
            "pairwise": [pair.to_json(ROUND) for pair in self.claims],
        }
        if self.confusion:
            document["confusion"] = [c.to_json() for c in self.confusion]
        document["bootstrap"] = {"resamples": self.resamples, "seed": self.seed, "confidence": CONFIDENCE}
        document["stories"] = None if self.stories is None else {
            story: {name: fa.to_json() for name, fa in fields.items()} for story, fields in self.stories.items()
        }
        return document


def _round(value: float | None) -> float | None:
    if value is None:
        return None
    rounded = round(value, ROUND)
    return 0.0 if rounded == 0 else rounded  # no "-0.0" in the output


def _interval_values(fld: SchemeField) -> np.ndarray | None:
    """The numbers an interval field's scale labels stand for (None for other kinds)."""
    if fld.kind != "interval":
        return None
    return np.array([float(lab.value) for lab in fld.labels if not lab.missing])


def field_agreement(
    labels: LabelMatrix, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> FieldAgreement:
    """α (field level, with its bootstrap interval, and nominal), units, pairwise κ and α,
    and each annotator's count of every label of one field."""
    fld = labels.field
    scaled = labels.scaled()
    size = labels.scale_size
    counts = _value_counts(scaled, size)
    pairable = counts[counts.sum(axis=1) >= 2]
    values = _interval_values(fld)
    alpha = krippendorff_alpha(counts, fld.kind, values)
    interval = None
    if alpha is not None:
        interval = alpha_interval(pairable, distance_matrix(pairable.sum(axis=0), fld.kind, values), resamples, seed)
    alpha_nominal = alpha if fld.kind == "nominal" else krippendorff_alpha(counts, "nominal")
    pairwise = []
    for i, j in itertools.combinations(range(len(labels.annotators)), 2):
        pairwise.append(_pair(labels.annotators[i], labels.annotators[j], scaled[i], scaled[j], size, fld.kind, values))
    missing_codes = [index for index, lab in enumerate(fld.labels) if lab.missing]
    cannot_judge: dict[str, int] = {}
    if missing_codes:
        abstained = np.isin(labels.codes, missing_codes).sum(axis=1)
        cannot_judge = {name: int(count) for name, count in zip(labels.annotators, abstained) if count}
    distribution = {
        name: dict(zip(fld.values, np.bincount(row[row >= 0], minlength=len(fld.values)).tolist()))
        for name, row in zip(labels.annotators, labels.codes)
    }
    return FieldAgreement(
        name=fld.name, level=fld.kind, alpha=alpha, alpha_ci=interval, alpha_nominal=alpha_nominal,
        units=int(pairable.shape[0]), annotators=list(labels.annotators), pairwise=pairwise,
        cannot_judge=cannot_judge, distribution=distribution,
    )


def _value_counts(scaled: np.ndarray, size: int) -> np.ndarray:
    """Units x scale-values counts of a coders x units matrix of scale positions."""
    coders, units = scaled.shape
    counts = np.zeros((units, max(size, 1)), dtype=np.int64)
    unit_index = np.arange(units)
    for row in scaled:  # one value per coder and unit, so no index repeats within a row
        present = row >= 0
        counts[unit_index[present], row[present]] += 1
    return counts


def _pair(
    a: str, b: str, row_a: np.ndarray, row_b: np.ndarray, size: int, kind: str, values: np.ndarray | None = None
) -> PairAgreement:
    both = (row_a >= 0) & (row_b >= 0)
    n = int(both.sum())
    if n == 0 or size < 2:
        return PairAgreement(a, b, None, None, n)
    va, vb = row_a[both].astype(np.int64), row_b[both].astype(np.int64)
    table = np.bincount(va * size + vb, minlength=size * size).reshape(size, size)
    # Two coders per article: each article adds one (a, b) and one (b, a) coincidence.
    return PairAgreement(a, b, cohen_kappa(table), alpha_from_coincidences(table + table.T, kind, values), n)


def confusion(labels: LabelMatrix, a: str, b: str) -> Confusion:
    """The confusion matrix of annotator a (rows) and annotator b or, for b = GOLD, the
    gold labels (columns) on one field, over the articles both labelled, with every label
    of the field (including "cannot be judged") in scheme order; with the pair's κ and α,
    and a's FNC-1 score against b when the field's labels are FNC-1's."""
    fld = labels.field
    size = len(fld.labels)
    row_a, row_b = _coder_row(labels, a), _coder_row(labels, b)
    both = (row_a >= 0) & (row_b >= 0)
    matrix = np.bincount(row_a[both] * size + row_b[both], minlength=size * size).reshape(size, size)
    figures = _pair(a, b, labels.scaled(row_a), labels.scaled(row_b), labels.scale_size, fld.kind, _interval_values(fld))
    fnc1 = None
    if is_fnc1_scale(fld.values):
        fnc1 = fnc1_score_of_counts({
            (fld.values[column], fld.values[row]): int(matrix[row, column])
            for row in range(size) for column in range(size) if matrix[row, column]
        })
    return Confusion(fld.name, a, b, fld.values, matrix.tolist(), figures.n, figures.kappa, figures.alpha, fnc1)


def _coder_row(labels: LabelMatrix, name: str) -> np.ndarray:
    """One coder's codes over the units (all ABSENT for someone who labelled none)."""
    if name == GOLD and labels.gold is not None:
        return labels.gold.astype(np.int64)
    if name in labels.annotators:
        return labels.codes[labels.annotators.index(name)].astype(np.int64)
    return np.full(len(labels.articles), ABSENT, dtype=np.int64)


def article_fields(store: Store, names: list[str] | tuple[str, ...] = ()) -> list[SchemeField]:
    """The scheme's article-level fields, or the named ones (checked), in scheme order."""
    scheme = store.scheme
    for name in names:
        fld = scheme.field(name)
        if fld is None:
            known = ", ".join(f.name for f in scheme.fields_at("article"))
            raise StoreError(f"unknown field {name!r} (article-level fields: {known})")
        if "article" not in fld.level:
            raise StoreError(
                f"{name!r} is a claim-level field; agreement covers article-level fields "
                "(claims are compared by their spans)"
            )
    wanted = set(names)
    return [f for f in scheme.fields_at("article") if not wanted or f.name in wanted]


def agreement(
    store: Store,
    fields: list[str] | tuple[str, ...] = (),
    story: str | None = None,
    pair: tuple[str, str] | None = None,
    *,
    by_story: bool = False,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> AgreementReport:
    """Compute the agreement report (of one story's articles, with `story`; with
    `by_story`, each story's figures too). α's interval draws `resamples` bootstrap
    resamples (0: no interval) from a generator seeded with `seed`.

    Raises StoreError for an unknown field, story or annotator of `pair`.
    """
    chosen = article_fields(store, fields)
    if story is not None and store.get_story(story) is None:
        raise StoreError(f"no story {story!r}")
    if pair is not None:
        if pair[0] == GOLD:
            raise StoreError("gold can only be B in --pair A B (the reference A is scored against)")
        known = set(store.annotators())
        with_gold = pair[1] == GOLD
        for name in pair[:1] if with_gold else pair:
            if name not in known:
                raise StoreError(f"no annotator {name!r} in this database")
    else:
        with_gold = False
    results: dict[str, FieldAgreement] = {}
    confusions: list[Confusion] = []
    matrices = read_label_matrices(store, chosen, story, stories=by_story, gold=with_gold)
    for fld in chosen:
        labels = matrices[fld.name]
        results[fld.name] = field_agreement(labels, resamples, seed)
        if pair is not None:
            confusions.append(confusion(labels, *pair))
    per_story = None
    if by_story:
        per_story = {}
        # Every field's matrix has the same units, and so the same stories.
        for name in np.unique(next(iter(matrices.values())).stories).tolist() if matrices else []:
            per_story[name] = {
                fld.name: field_agreement(matrices[fld.name].of_story(name), resamples, seed) for fld in chosen
            }
    claim_annotators, claim_pairs = span_agreement(store, story)
    return AgreementReport(story, results, claim_pairs, claim_annotators, confusions, per_story, resamples, seed)
