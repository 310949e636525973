"""Figures: a table in, a matplotlib :class:`~matplotlib.figure.Figure` out.

Nothing is shown or saved here; call ``fig.savefig("prevalence.png", dpi=200)`` or ``.svg``.
The functions use matplotlib's object API (no global pyplot state), so they are safe in scripts,
notebooks and threads. :func:`plot_prevalence_interactive` is the exception: a plotly figure,
optionally written as one self-contained HTML file (plotly.js inlined, nothing fetched).
"""

from __future__ import annotations

import html
import math
import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from themeassist._schema import check_columns, theme_labels
from themeassist.exceptions import CorpusError, ParameterError, ThemeassistError

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["plot_heatmap", "plot_prevalence", "plot_prevalence_interactive", "plot_tone"]

# matplotlib's tab10 (the C0..C9 of the static figures), so both kinds of figure match
_TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf")
_CSP = ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:\">")


def _check(table: pd.DataFrame, need: Sequence[str], who: str) -> None:
    source = "tone_by_theme" if who == "plot_tone" else "prevalence"
    check_columns(table, need, who=who, what=f"{source} table", hint=f"Pass the table returned by {source}().")


def _nothing_at_level(table: pd.DataFrame, level: Any, who: str) -> Exception:
    """The error for a plot with no rows to draw: an empty table, or a level that selects nothing."""
    if table.empty:
        return CorpusError(f"{who}: the prevalence table has no rows; pass the table prevalence() returned for "
                           "suggestions that hold at least one substantive comment.")  # fmt: skip
    return ParameterError(f"{who}: no rows to draw at level={level!r} ({len(table)} rows in the table); try "
                          "level='leaves' or level=0.")  # fmt: skip


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
        raise _nothing_at_level(prev_table, level, "plot_prevalence")
    periods = list(pd.unique(prev_table["period"]))
    x = np.arange(len(periods))
    ncols = max(1, min(ncols, len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    # a panel's legend lists its themes: a parent with 30 sub-themes needs a taller panel
    lines = max(sub["theme"].nunique() for _, sub in panels)
    fig = Figure(figsize=figsize or (6.0 * ncols, max(3.6, 1.6 + 0.16 * lines) * nrows), layout="constrained")
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
    names = rows.assign(theme=theme_labels(rows)).drop_duplicates(key).set_index(key)["theme"].reindex(themes)
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
        The result of :func:`themeassist.drift.tone.tone_by_theme`.
    themes : list of str, optional
        Themes to draw (default: the ``"(all comments)"`` row and every theme that has sub-themes;
        all themes when the codebook is flat), by name, or as ``"parent > name"`` where several
        themes share a name (the label the panels get).
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per theme, titled by the theme; y label names the score.

    Examples
    --------
    >>> from themeassist.drift.tone import score_tone, tone_by_theme
    >>> tt = tone_by_theme(score_tone(["good", "bad", "fine", "awful"]), ["a", "a", "a", "a"], [1, 1, 2, 2])
    >>> [ax.get_title() for ax in plot_tone(tt).axes]
    ['(all comments)', 'a']
    """
    _check(tone_table, ("period", "theme", "mean", "ci_low", "ci_high"), "plot_tone")
    labels = theme_labels(tone_table)  # a name two themes share is drawn as "parent > name"
    if themes is None:
        names = list(pd.unique(labels))
        parents = set(tone_table["parent"]) if "parent" in tone_table.columns else set()
        if parents - {"", None}:
            names = [n for n in names if n == "(all comments)" or n in parents]
        themes = names
    if not themes:
        raise ParameterError("plot_tone: no themes to draw; pass themes=[...] with names from the table's "
                             "'theme' column.")  # fmt: skip
    periods = list(pd.unique(tone_table["period"]))
    x = np.arange(len(periods))
    ncols = max(1, min(ncols, len(themes)))
    nrows = math.ceil(len(themes) / ncols)
    fig = Figure(figsize=figsize or (4.2 * ncols, 3.0 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    score = str(tone_table["score"].iloc[0]) if "score" in tone_table.columns and len(tone_table) else "score"
    for ax, theme in zip(axes.flat, themes):
        pick = labels == theme
        pick = pick if pick.any() else tone_table["theme"] == theme
        rows = tone_table[pick].drop_duplicates("period").set_index("period")
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


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _floats(values: pd.Series, scale: float) -> list[float | None]:
    """Plain floats (None for missing): readable JSON in the HTML, not plotly's base64 arrays."""
    return [None if not np.isfinite(v) else round(scale * float(v), 6) for v in values.to_numpy(float)]


def plot_prevalence_interactive(prev_table: pd.DataFrame, codebook: Any = None, *, level: str | int = "leaves",
                                by: str | None = None, ncols: int = 2, percent: bool = True,
                                title: str | None = None,
                                path: str | os.PathLike[str] | None = None) -> go.Figure:
    """Interactive prevalence lines with interval ribbons (plotly), one panel per parent theme.

    (Over 80 lines for its documentation only: the code itself is under 80.)

    The interactive twin of :func:`plot_prevalence`: hovering a point shows the theme, its
    parent, the period, the prevalence, its interval and the counts; clicking a legend entry hides
    or shows a theme. With ``path`` the figure is written as ONE HTML file that opens offline:
    plotly.js is inlined (no CDN), and a Content-Security-Policy forbids loading anything.

    Parameters
    ----------
    prev_table : DataFrame
        The result of :func:`themeassist.drift.prevalence` (columns ``period``, ``theme``,
        ``prevalence``, ``ci_low``, ``ci_high``; ``n_theme``, ``n_comments``, ``parent``,
        ``theme_id``, ``is_leaf``/``depth`` used when present).
    codebook : Codebook, optional
        Orders the panels and lines as in the codebook.
    level : "leaves" or int
        As in :func:`plot_prevalence`.
    by : str, optional
        A column whose values are shown one at a time, picked from a menu (e.g. ``"source"`` of
        the pipeline's prevalence table, or ``"group"``). Default: ``"source"``, then
        ``"group"``, when the table has several values there.
    ncols, percent, title
        As in :func:`plot_prevalence`.
    path : path, optional
        Write the self-contained HTML file there (about 5 MB, most of it plotly.js).

    Returns
    -------
    plotly.graph_objects.Figure
        Per theme (and ``by`` value) three traces: the interval's lower edge, its upper edge
        filled down to it, and the prevalence line (named by the theme, with the hover text).

    Examples
    --------
    >>> from themeassist.drift import prevalence
    >>> t = prevalence(["a", "b", "a|b", ""], period=[1, 1, 2, 2])
    >>> fig = plot_prevalence_interactive(t)
    >>> [tr.name for tr in fig.data if tr.showlegend is not False]
    ['a', 'b']
    >>> fig.data[2].y
    (50.0, 50.0)
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    _check(prev_table, ("period", "theme", "prevalence", "ci_low", "ci_high"), "plot_prevalence_interactive")
    if by is None:
        by = next((c for c in ("source", "group") if c in prev_table.columns
                   and prev_table[c].astype(str).nunique() > 1), None)
    else:
        check_columns(prev_table, (by,), who="plot_prevalence_interactive", what="prevalence table",
                      hint="Pass by= one of its columns (e.g. 'source' or 'group'), or leave it out.")
    choices = list(dict.fromkeys(prev_table[by].astype(str))) if by else [""]
    periods = list(pd.unique(prev_table["period"]))
    xs = [str(p) for p in periods]
    scale = 100.0 if percent else 1.0
    unit = "%" if percent else ""
    layout_panels = _panels(prev_table if by is None else prev_table[prev_table[by].astype(str) == choices[0]],
                            codebook, str(level))
    if not layout_panels or all(sub.empty for _, sub in layout_panels):
        raise _nothing_at_level(prev_table, level, "plot_prevalence_interactive")
    parents = [p for p, _ in layout_panels]
    ncols = max(1, min(ncols, len(parents)))
    nrows = math.ceil(len(parents) / ncols)
    fig = make_subplots(rows=nrows, cols=ncols, shared_xaxes=True, vertical_spacing=min(0.12, 0.3 / nrows),
                        subplot_titles=[html.escape(p or "Themes", quote=False) for p in parents])
    owners: list[str] = []
    for choice in choices:
        table = prev_table if by is None else prev_table[prev_table[by].astype(str) == choice]
        panels = dict(_panels(table, codebook, str(level)))
        for i, parent in enumerate(parents):
            sub = panels.get(parent)
            if sub is None:
                continue
            row, col = i // ncols + 1, i % ncols + 1
            for k, (theme, rows) in enumerate(sub.groupby("theme", sort=False)):
                rows = rows.drop_duplicates("period").set_index("period").reindex(periods)
                colour = _TAB10[k % 10]
                name = html.escape(str(theme), quote=False)
                group = f"{choice}|{parent}|{theme}"
                lo, hi = _floats(rows["ci_low"], scale), _floats(rows["ci_high"], scale)
                counts = [[_floats(rows[c], 1.0)[j] if c in rows.columns else None for c in ("n_theme", "n_comments")]
                          for j in range(len(rows))]
                visible = choice == choices[0]
                edge = {"x": xs, "mode": "lines", "line": {"width": 0, "color": colour}, "hoverinfo": "skip",
                        "showlegend": False, "legendgroup": group, "visible": visible}
                fig.add_trace(go.Scatter(y=lo, name=f"{name} (interval, lower)", **edge), row=row, col=col)
                fig.add_trace(go.Scatter(y=hi, name=f"{name} (interval)", fill="tonexty",
                                         fillcolor=_rgba(colour, 0.15), **edge), row=row, col=col)
                extra = f"<extra>{html.escape(choice, quote=False)}</extra>" if choice else "<extra></extra>"
                fig.add_trace(go.Scatter(
                    x=xs, y=_floats(rows["prevalence"], scale), name=name, mode="lines+markers",
                    line={"color": colour}, marker={"size": 6}, legendgroup=group, visible=visible,
                    customdata=[[lo[j], hi[j], *counts[j]] for j in range(len(xs))],
                    hovertemplate=(f"<b>{name}</b>" + (f" ({html.escape(parent, quote=False)})" if parent else "")
                                   + "<br>period: %{x}<br>prevalence: %{y:.1f}" + unit
                                   + "<br>95% interval: %{customdata[0]:.1f}–%{customdata[1]:.1f}" + unit
                                   + "<br>comments with the theme: %{customdata[2]:.1f} of %{customdata[3]:.0f}"
                                   + extra)), row=row, col=col)
                owners += [choice] * 3
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=xs)
    fig.update_yaxes(title_text="prevalence (%)" if percent else "prevalence", rangemode="tozero", col=1)
    fig.update_yaxes(rangemode="tozero")
    menus = []
    if by is not None and len(choices) > 1:
        menus = [{"buttons": [{"label": html.escape(c, quote=False), "method": "update",
                               "args": [{"visible": [o == c for o in owners]}]} for c in choices],
                  "direction": "down", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom",
                  "pad": {"b": 30}}]
    fig.update_layout(title={"text": html.escape(title or "Prevalence by period", quote=False)},
                      template="plotly_white", height=max(360, 300 * nrows + 80), hovermode="closest",
                      legend={"tracegroupgap": 0, "font": {"size": 11}}, updatemenus=menus,
                      margin={"t": 110 if menus else 80})
    if path is not None:
        _write_html(fig, Path(path), title or "Prevalence by period")
    return fig


def save_interactive(fig: go.Figure, path: str | os.PathLike[str], title: str = "Prevalence by period") -> Path:
    """Write a figure of :func:`plot_prevalence_interactive` as the one offline HTML file its ``path=`` writes
    (drawn once, written later: nothing is drawn twice)."""
    return _write_html(fig, Path(path), title)


def _write_html(fig: go.Figure, path: Path, title: str) -> Path:
    """One HTML file, plotly.js inlined, a CSP that lets nothing be fetched."""
    from themeassist.io.tables import atomic_write_text

    page = fig.to_html(include_plotlyjs=True, full_html=True, include_mathjax=False,
                       config={"displaylogo": False, "responsive": True,
                               "toImageButtonOptions": {"format": "svg"}})
    head = '<meta charset="utf-8" />'
    if head not in page:
        raise ThemeassistError("plot_prevalence_interactive: unexpected HTML from plotly (no charset meta); cannot "
                               "add the Content-Security-Policy.")
    page = page.replace(head, f"{head}\n    {_CSP}\n    <title>{html.escape(title)}</title>", 1)
    return atomic_write_text(path, page)
