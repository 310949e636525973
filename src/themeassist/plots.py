"""Figures: a table in, a matplotlib :class:`~matplotlib.figure.Figure` out.

Nothing is shown or saved here; call ``fig.savefig("prevalence.png", dpi=200)`` or ``.svg``.
The functions use matplotlib's object API (no global pyplot state), so they are safe in scripts,
notebooks and threads.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from themeassist.exceptions import ThemeassistError

__all__ = ["plot_heatmap", "plot_prevalence", "plot_tone"]


def _check(table: pd.DataFrame, need: Sequence[str], who: str) -> None:
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ThemeassistError(f"{who}: the table lacks columns {missing} (columns: "
                               f"{', '.join(map(repr, table.columns))}); pass the table returned by "
                               f"{'tone_by_theme' if who == 'plot_tone' else 'prevalence'}().")


def _wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _panels(table: pd.DataFrame, codebook: Any, level: str) -> list[tuple[str, pd.DataFrame]]:
    """Split the rows to draw into panels: one per parent theme (the sub-themes as lines)."""
    rows = table
    if "is_leaf" in rows.columns and level == "leaves":
        rows = rows[rows["is_leaf"].astype(bool)]
    elif "depth" in rows.columns and level != "leaves":
        rows = rows[rows["depth"] == int(level)]
    if codebook is not None and "theme_id" in rows.columns:
        order = {t.theme_id: i for i, t in enumerate(codebook.themes)}
        rows = rows.assign(_o=rows["theme_id"].map(order).fillna(len(order))).sort_values("_o", kind="stable")
    key = "parent" if "parent" in rows.columns else None
    if key is None or rows[key].fillna("").eq("").all():
        return [("", rows)]
    return [(str(p), sub) for p, sub in rows.groupby(key, sort=False)]


def plot_prevalence(prev_table: pd.DataFrame, codebook: Any = None, *, level: str | int = "leaves",
                    ncols: int = 2, percent: bool = True, title: str | None = None,
                    figsize: tuple[float, float] | None = None) -> Figure:
    """Prevalence lines with interval ribbons, one small panel per over-arching (parent) theme.

    Parameters
    ----------
    prev_table : DataFrame
        The result of :func:`themeassist.drift.prevalence` (one period axis; with a ``group``
        column, each group is drawn as a line style of its own only if there is one theme per
        panel, so filter groups first for readable figures).
    codebook : Codebook, optional
        Orders the panels and lines as in the codebook.
    level : "leaves" or int
        ``"leaves"``: sub-themes, grouped by parent; an int: the themes at that depth.
    ncols : int
        Panels per row.
    percent : bool
        Y axis in percent (else a proportion).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel (titled by the parent theme), x = periods in table order,
        y = prevalence, with a shaded band from ``ci_low`` to ``ci_high``.

    Examples
    --------
    >>> from themeassist.drift import prevalence
    >>> t = prevalence(["a", "b", "a|b", ""], period=[1, 1, 2, 2])
    >>> len(plot_prevalence(t).axes)
    1
    """
    _check(prev_table, ("period", "theme", "prevalence", "ci_low", "ci_high"), "plot_prevalence")
    panels = _panels(prev_table, codebook, str(level))
    if not panels or all(sub.empty for _, sub in panels):
        raise ThemeassistError("plot_prevalence: no rows to draw at this level; try level='leaves' or level=0.")
    periods = list(pd.unique(prev_table["period"]))
    x = np.arange(len(periods))
    ncols = max(1, min(ncols, len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=figsize or (6.0 * ncols, 3.6 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    scale = 100.0 if percent else 1.0
    for ax, (parent, sub) in zip(axes.flat, panels):
        for k, (theme, rows) in enumerate(sub.groupby("theme", sort=False)):
            rows = rows.drop_duplicates("period").set_index("period").reindex(periods)
            color = f"C{k % 10}"
            ax.plot(x, scale * rows["prevalence"].to_numpy(float), marker="o", ms=3, color=color,
                    label=_wrap(theme, 40))
            ax.fill_between(x, scale * rows["ci_low"].to_numpy(float), scale * rows["ci_high"].to_numpy(float),
                            color=color, alpha=0.15, linewidth=0)
        ax.set_title(_wrap(parent or "Themes", 60), fontsize=9)
        ax.set_ylabel("prevalence (%)" if percent else "prevalence")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="upper left", frameon=False)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xticks(x, [str(p) for p in periods], rotation=45 if len(periods) > 6 else 0)
        ax.set_xlabel("period")
    if title:
        fig.suptitle(title)
    # keep only the visible axes in fig.axes
    for ax in list(axes.flat)[len(panels):]:
        fig.delaxes(ax)
    return fig


def plot_heatmap(prev_table: pd.DataFrame, *, value: str = "prevalence", leaves_only: bool = True,
                 annotate: bool = True, title: str | None = None,
                 figsize: tuple[float, float] | None = None) -> Figure:
    """Themes x periods heatmap of prevalence (percent), with the values written in the cells.

    Parameters
    ----------
    prev_table : DataFrame
        The result of :func:`themeassist.drift.prevalence`.
    value : str
        Column to show (``"prevalence"`` in percent, or e.g. ``"n_theme"``).
    leaves_only : bool
        Only sub-themes (rows with ``is_leaf``), else every node.
    annotate : bool
        Write the values in the cells.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the heatmap (y tick labels = themes, x = periods) and its colour bar.

    Examples
    --------
    >>> from themeassist.drift import prevalence
    >>> fig = plot_heatmap(prevalence(["a", "b", "a|b", ""], period=[1, 1, 2, 2]))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    """
    _check(prev_table, ("period", "theme", value), "plot_heatmap")
    rows = prev_table
    if leaves_only and "is_leaf" in rows.columns:
        rows = rows[rows["is_leaf"].astype(bool)]
    periods = list(pd.unique(rows["period"]))
    key = "theme_id" if "theme_id" in rows.columns else "theme"
    themes = list(pd.unique(rows[key]))
    names = rows.drop_duplicates(key).set_index(key)["theme"].reindex(themes)
    mat = rows.pivot_table(index=key, columns="period", values=value, aggfunc="mean").reindex(index=themes,
                                                                                             columns=periods)
    data = mat.to_numpy(float) * (100.0 if value == "prevalence" else 1.0)
    fig = Figure(figsize=figsize or (1.1 * len(periods) + 4.5, 0.32 * len(themes) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap="viridis")
    ax.set_xticks(np.arange(len(periods)), [str(p) for p in periods], rotation=45 if len(periods) > 6 else 0)
    ax.set_yticks(np.arange(len(themes)), [_wrap(n, 45) for n in names], fontsize=8)
    if annotate:
        top = np.nanmax(data) if np.isfinite(data).any() else 0
        for i in range(data.shape[0]):
            for j in range(data.shape[1]):
                if np.isfinite(data[i, j]):
                    ax.text(j, i, f"{data[i, j]:.1f}" if value == "prevalence" else f"{data[i, j]:g}", ha="center",
                            va="center", fontsize=7, color="black" if data[i, j] > 0.6 * top else "white")
    fig.colorbar(im, ax=ax, label="prevalence (%)" if value == "prevalence" else value)
    ax.set_xlabel("period")
    if title:
        ax.set_title(title)
    return fig


def plot_tone(tone_table: pd.DataFrame, *, themes: Sequence[str] | None = None, ncols: int = 3,
              title: str | None = None, figsize: tuple[float, float] | None = None) -> Figure:
    """Mean tone per period with its interval, one small panel per theme.

    Parameters
    ----------
    tone_table : DataFrame
        The result of :func:`themeassist.tone.tone_by_theme`.
    themes : list of str, optional
        Themes to draw (default: the ``"(all comments)"`` row and every theme that has sub-themes;
        all themes when the codebook is flat).
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per theme, titled by the theme; y label names the score.

    Examples
    --------
    >>> from themeassist.tone import score_tone, tone_by_theme
    >>> tt = tone_by_theme(score_tone(["good", "bad", "fine", "awful"]), ["a", "a", "a", "a"], [1, 1, 2, 2])
    >>> [ax.get_title() for ax in plot_tone(tt).axes]
    ['(all comments)', 'a']
    """
    _check(tone_table, ("period", "theme", "mean", "ci_low", "ci_high"), "plot_tone")
    if themes is None:
        names = list(pd.unique(tone_table["theme"]))
        parents = set(tone_table["parent"]) if "parent" in tone_table.columns else set()
        if parents - {"", None}:
            names = [n for n in names if n == "(all comments)" or n in parents]
        themes = names
    if not themes:
        raise ThemeassistError("plot_tone: no themes to draw; pass themes=[...] with names from the table.")
    periods = list(pd.unique(tone_table["period"]))
    x = np.arange(len(periods))
    ncols = max(1, min(ncols, len(themes)))
    nrows = math.ceil(len(themes) / ncols)
    fig = Figure(figsize=figsize or (4.2 * ncols, 3.0 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    score = str(tone_table["score"].iloc[0]) if "score" in tone_table.columns and len(tone_table) else "score"
    for ax, theme in zip(axes.flat, themes):
        rows = tone_table[tone_table["theme"] == theme].drop_duplicates("period").set_index("period")
        rows = rows.reindex(periods)
        mean = rows["mean"].to_numpy(float)
        err = np.vstack([mean - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - mean])
        ax.errorbar(x, mean, yerr=np.nan_to_num(err), marker="o", ms=4, capsize=3)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(_wrap(theme, 40), fontsize=9)
        ax.set_xticks(x, [str(p) for p in periods], rotation=45 if len(periods) > 6 else 0)
        ax.set_ylabel(f"mean {score}")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(themes):]:
        fig.delaxes(ax)
    if title:
        fig.suptitle(title)
    return fig
