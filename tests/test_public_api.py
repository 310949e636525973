"""The public API is pinned: additions and removals are deliberate."""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import clone

import themeassist as ta
from themeassist.exceptions import NotFittedError

EXPECTED = [
    "AutoAccept",
    "CORPUS_COLUMNS", "CacheError", "CandidateDiscovery", "Codebook", "CodebookError", "CorpusError",
    "DEFAULT_NON_ANSWERS", "DriftResult", "NotFittedError", "OutputError", "ParameterError", "QDAFormatError",
    "RecallSets", "STATUSES", "Theme",
    "ThemeMapper", "ThemeassistError", "__version__", "add_review_order",
    "agreement", "align_candidates", "build_static",
    "candidate_periods", "changes", "codes_to_long", "content_shift", "discover_dask", "estimate_prevalence",
    "export_qdc", "export_qdpx", "get_embedder", "held_out_quality", "held_out_scores", "iapt_demo_prevalence", "import_qdc", "import_qdpx",
    "load_codebook", "load_corpus", "load_iapt_demo", "plot_heatmap", "plot_prevalence",
    "plot_prevalence_interactive", "plot_tone", "prevalence", "read_decisions", "read_examples", "read_table",
    "redact", "resumable_suggest", "review_queue", "run_all", "run_chunked", "run_demo", "run_drift", "score_tone",
    "substantive", "suggest_dask", "suggest_hybrid", "summarise_changes", "tone_by_theme", "write_report",
    "write_table",
]  # fmt: skip


def test_all_is_sorted_pinned_and_importable() -> None:
    assert ta.__all__ == sorted(ta.__all__)
    assert ta.__all__ == EXPECTED
    for name in ta.__all__:
        assert getattr(ta, name) is not None


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ta.nope  # noqa: B018


@pytest.mark.parametrize("name", [n for n in EXPECTED if not n.startswith("__")])
def test_public_functions_and_classes_have_numpydoc_docstrings(name: str) -> None:
    obj = getattr(ta, name)
    if inspect.isfunction(obj) or inspect.isclass(obj):
        doc = inspect.getdoc(obj) or ""
        assert len(doc) > 25, f"{name} needs a docstring"
        if inspect.isfunction(obj) or name in ("ThemeMapper", "CandidateDiscovery"):
            assert "Example" in doc or ">>>" in doc, f"{name} needs a short example"


# ---- the estimator contract (scikit-learn), run on every estimator --------------------------
ESTIMATORS = [ta.CandidateDiscovery(min_topic_size=7, random_state=3), ta.ThemeMapper(top_k=2, random_state=3),
              ta.RecallSets(target_recall=0.8), ta.AutoAccept(target_precision=0.9)]


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_estimator_contract(est) -> None:  # type: ignore[no-untyped-def]
    params = est.get_params()
    # __init__ stores its keyword arguments unchanged, and only them
    sig = inspect.signature(type(est).__init__)
    assert set(params) == {p for p in sig.parameters if p != "self"}
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for n, p in sig.parameters.items() if n != "self")
    twin = clone(est)
    assert twin.get_params() == params and twin is not est
    # nothing fitted before fit: no attribute ending in "_" (besides dunder) exists
    assert not [a for a in vars(est) if a.endswith("_") and not a.startswith("__")]
    with pytest.raises(NotFittedError):
        if isinstance(est, ta.ThemeMapper):
            est.suggest(["a comment"])
        elif isinstance(est, (ta.RecallSets, ta.AutoAccept)):
            est.predict([[0.5, 0.5]])
        else:
            est.transform(["a comment"])
