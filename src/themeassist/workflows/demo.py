"""The demo: the whole job on the built-in, ILLUSTRATIVE IAPT demo corpus, with an audit.

:func:`run_demo` runs :func:`themeassist.workflows.pipeline.run_all` on the demo comments (written
for themeassist, not the study's data) with the built-in IAPT wellbeing codebook;
:func:`demo_audit` draws the audit that the demo's gold codes "check".
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Sequence

import pandas as pd

from themeassist.workflows.pipeline import DemoResult, run_all

__all__ = ["DEMO_AUDIT_PER_PERIOD", "DEMO_NOTE", "demo_audit", "run_demo"]

_USABLE = ("ok", "truncated")
DEMO_NOTE = ("Illustrative data: the IAPT demo comments were written for themeassist to resemble the free-text "
             "answers of the 2014-2018 IAPT staff wellbeing survey (Harper, Bhutani, Rao & Clarke, 2020). They "
             "are not the study's data and no comment comes from a real respondent.")
#: Comments audited in each suggested year of the demo (issue 14: 40 per year).
DEMO_AUDIT_PER_PERIOD = 40


def demo_audit(corpus: pd.DataFrame, *, per_period: int = DEMO_AUDIT_PER_PERIOD, seed: int = 0,
               coded_periods: Sequence[str] = ("2014", "2015")) -> pd.DataFrame:
    """The demo's audit: the hand-coded years in full, and a random sample of the other years,
    with the demo's gold codes (``themes``) written by the "coder" (``none`` where no theme applies).

    Examples
    --------
    >>> from themeassist.corpus import load_corpus
    >>> from themeassist.datasets import load_iapt_demo
    >>> c = load_corpus(load_iapt_demo(), text_col="text", id_col="doc_id", period_col="year")  # doctest: +SKIP
    >>> demo_audit(c).groupby("year").size().tolist()                                         # doctest: +SKIP
    [305, 309, 40, 40, 40]
    """
    from themeassist.drift import draw_audit

    ok = corpus["status"].isin(_USABLE)
    later = [p for p in pd.unique(corpus.loc[ok, "period"].dropna().astype(str)) if p not in set(coded_periods)]
    sample = draw_audit(corpus, period_col="period", per_period=per_period, seed=seed, periods=later)
    full = corpus[ok & corpus["period"].astype(str).isin(list(coded_periods))]
    census = pd.DataFrame({"doc_id": full["doc_id"].astype(str), "period": full["period"], "text": full["text"],
                           "inclusion_probability": 1.0, "codes": ""})
    out = pd.concat([census, sample], ignore_index=True).rename(columns={"period": "year"})
    gold = dict(zip(corpus["doc_id"].astype(str), corpus["themes"].fillna("").astype(str)))
    out["codes"] = [gold.get(d, "").strip() or "none" for d in out["doc_id"]]
    return out


def run_demo(
    out_dir: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    model: Any = None,
    random_state: int = 0,
    show_progress: bool = True,
    redact: bool = False,
    redact_names: Sequence[str] = (),
) -> DemoResult:
    """Run the whole job on the illustrative IAPT demo corpus with the IAPT wellbeing codebook.

    The 2014 and 2015 comments' codes are treated as already coded by the researcher (the coded
    examples of the few-shot regime); themes are suggested for every comment; an audit of
    :data:`DEMO_AUDIT_PER_PERIOD` random comments in each suggested year (2016-2018) is "checked"
    by the demo's gold codes playing the coder (:func:`demo_audit`), and prevalence 2014-2018 is
    estimated from the suggestions' scores corrected by that audit (the hand-coded years count
    as fully checked), next to the raw suggestion counts and the human (gold) codes; agreement
    is measured on 2016-2018, which the mapper never saw.

    The demo comments are ILLUSTRATIVE: written for themeassist, not the study's data.

    Parameters
    ----------
    out_dir : path
        The run folder (see :mod:`themeassist.workflows.pipeline` for its files).
    cache_dir, model, random_state, show_progress
        As in :func:`run_all`.
    redact : bool, default False
        Redact identifiers in the comments (:func:`themeassist.redact.redact`) before anything is
        computed, so no file of the run holds them (CLI ``--redact``, which also turns the cache off).
    redact_names : sequence of str
        Person names to redact too.

    Returns
    -------
    DemoResult
        Paths of the written files; ``result.report`` is the HTML report.

    Examples
    --------
    >>> run_demo("demo-output", show_progress=False).report          # doctest: +SKIP
    PosixPath('demo-output/report.html')
    """
    from themeassist.codebooks import iapt_wellbeing
    from themeassist.corpus import load_corpus
    from themeassist.datasets import load_iapt_demo

    demo = load_iapt_demo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        corpus = load_corpus(demo, text_col="text", id_col="doc_id", period_col="year")
    if redact:
        from themeassist.redact import redact as _redact

        corpus = _redact(corpus, names=list(redact_names), columns=["text", "reason"])[0]
    coded = corpus[corpus["period"].isin(["2014", "2015"]) & corpus["status"].isin(_USABLE)]
    examples = pd.DataFrame({"doc_id": coded["doc_id"], "text": coded["text"], "codes": coded["themes"]})
    audit = demo_audit(corpus, per_period=DEMO_AUDIT_PER_PERIOD, seed=random_state)
    return run_all(corpus, iapt_wellbeing(), examples=examples, out_dir=out_dir, human_codes_col="themes",
                   audit=audit,
                   model=model, cache_dir=cache_dir, random_state=random_state, show_progress=show_progress,
                   title="themeassist demo: IAPT practitioners' wellbeing, 2014-2018",
                   note=DEMO_NOTE + " The 2014-2015 human codes are used as the researcher's coded examples; "
                   "2016-2018 are suggested by the model and compared with the human codes.")
