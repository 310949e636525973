"""Built-in demo data.

The IAPT demo corpus is ILLUSTRATIVE: every comment was written for this project to resemble
the free-text answers of the 2014-2018 IAPT staff wellbeing survey analysed by Harper, Bhutani,
Rao & Clarke (2020). It is not the study's data (those comments are not public) and no comment
comes from a real respondent.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["DEMO_YEARS", "iapt_demo_prevalence", "load_iapt_demo"]

DEMO_YEARS = ("2014", "2015", "2016", "2017", "2018")


def _read(name: str, **kwargs) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    with resources.files("themeassist.data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, **kwargs)


def load_iapt_demo() -> pd.DataFrame:
    """Load the illustrative IAPT wellbeing demo corpus (622 comments, 2014-2018).

    Written for themeassist, NOT the study's data: the comments imitate what IAPT practitioners
    might have written in the annual wellbeing survey described by Harper et al. (2020). Comments
    per year follow the study's respondents (161, 372, 531, 194, 285) and each sub-theme's yearly
    prevalence follows a table written first (:func:`iapt_demo_prevalence`).

    Returns
    -------
    pandas.DataFrame
        Columns ``doc_id`` (str), ``year`` (str, "2014".."2018"), ``text`` (str), ``themes``
        (gold sub-theme names of :func:`themeassist.codebooks.iapt_wellbeing` joined by ``"|"``,
        ``""`` for none: off-topic remarks and non-answers), ``gender``, ``profession``.

    Examples
    --------
    >>> from themeassist.datasets import load_iapt_demo
    >>> demo = load_iapt_demo()
    >>> demo.groupby("year").size().tolist()
    [65, 150, 214, 78, 115]
    """
    df = _read("iapt_demo.csv", dtype=str, keep_default_na=False)
    return df[["doc_id", "year", "text", "themes", "gender", "profession"]]


def iapt_demo_prevalence() -> pd.DataFrame:
    """The written table the demo corpus was generated from: comments per sub-theme and year.

    Returns
    -------
    pandas.DataFrame
        Index ``theme`` (sub-theme name), one integer column per year ("2014".."2018").

    Examples
    --------
    >>> int(iapt_demo_prevalence().loc["Media & Policy", "2015"])
    0
    """
    table = _read("iapt_demo_prevalence.csv", index_col="theme")
    table.columns = [str(c) for c in table.columns]
    return table
