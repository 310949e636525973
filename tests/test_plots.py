"""Tests for themeassist.plots: figures with the expected axes, labels and files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest
from matplotlib.figure import Figure

from themeassist.codebook import Codebook
from themeassist.drift import prevalence
from themeassist.exceptions import CorpusError, ThemeassistError
from themeassist.plots import plot_heatmap, plot_prevalence, plot_prevalence_interactive, plot_tone
from themeassist.drift.tone import score_tone, tone_by_theme


@pytest.fixture
def table():
    cb = Codebook.from_dict({"Staff": ["Attitude", "Competence"], "Access": ["Waiting", "Parking"]})
    codes = ["Attitude", "Competence|Waiting", "", "Parking", "Attitude", "Waiting"]
    return cb, prevalence(codes, period=["2020", "2020", "2020", "2021", "2021", "2021"], codebook=cb)


def test_plot_prevalence_small_multiples_per_parent(table, tmp_path):
    cb, t = table
    fig = plot_prevalence(t, cb)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["Staff", "Access"]
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["Attitude", "Competence"]
    assert ax.get_ylabel() == "prevalence (%)" and len(ax.collections) == 2  # one CI ribbon per line
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["2020", "2021"]
    assert list(ax.get_lines()[0].get_ydata()) == pytest.approx([100 / 3, 100 / 3])
    fig.savefig(tmp_path / "p.png")
    fig.savefig(tmp_path / "p.svg")
    assert (tmp_path / "p.png").stat().st_size > 1000 and (tmp_path / "p.svg").read_text().startswith("<?xml")
    top = plot_prevalence(t, cb, level=0)
    assert len(top.axes) == 1 and [line.get_label() for line in top.axes[0].get_lines()] == ["Staff", "Access"]


def test_plot_heatmap_themes_by_periods(table):
    _, t = table
    fig = plot_heatmap(t)
    assert len(fig.axes) == 2  # heatmap + colour bar
    ax = fig.axes[0]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["Attitude", "Competence", "Waiting", "Parking"]
    assert [x.get_text() for x in ax.get_xticklabels()] == ["2020", "2021"]
    assert "33.3" in [x.get_text() for x in ax.texts]
    assert len(plot_heatmap(t, leaves_only=False).axes[0].get_yticklabels()) == 6
    with pytest.raises(CorpusError, match="the prevalence table lacks column 'prevalence' .*Pass the table returned by prevalence"):
        plot_heatmap(t.drop(columns="prevalence"))


def test_plot_tone_panels(table):
    cb, _ = table
    texts = ["lovely staff", "rude staff", "ok", "great parking", "awful wait", "fine"]
    codes = ["Attitude", "Attitude", "", "Parking", "Waiting", "Waiting"]
    tt = tone_by_theme(score_tone(texts), codes, ["a", "a", "a", "b", "b", "b"], codebook=cb)
    fig = plot_tone(tt)
    assert [ax.get_title() for ax in fig.axes] == ["(all comments)", "Staff", "Access"]
    assert fig.axes[0].get_ylabel() == "mean compound"
    assert len(plot_tone(tt, themes=["Waiting"]).axes) == 1


# ---- interactive ----------------------------------------------------------------------------------
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def _figure_json(page: str) -> list[dict]:
    """The traces plotly wrote into the page (the first argument after the div id of Plotly.newPlot)."""
    start = page.index("Plotly.newPlot(")
    data = page[page.index("[", start):]
    return json.JSONDecoder().raw_decode(data)[0]


def test_plot_prevalence_interactive_is_one_offline_file(table, tmp_path):
    cb, t = table
    both = pd.concat([t.assign(source="human"), t.assign(source="suggested")], ignore_index=True)
    path = tmp_path / "figs" / "prevalence_interactive.html"
    fig = plot_prevalence_interactive(both, cb, path=path, title="Prevalence <by> year")
    page = path.read_text(encoding="utf-8")
    # offline: plotly.js inlined, no script fetched from anywhere, a CSP that forbids fetching
    assert len(page) > 1_000_000 and "Plotly.newPlot" in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, flags=re.I)
    assert "cdn.plot.ly/plotly" not in page and "default-src 'none'" in page
    assert "<title>Prevalence &lt;by&gt; year</title>" in page
    # the theme names and the data points: Attitude 1 of 3 comments in each year (33.3%), with its interval
    traces = _figure_json(page)
    lines = [tr for tr in traces if tr.get("mode") == "lines+markers"]
    assert [tr["name"] for tr in lines] == ["Attitude", "Competence", "Waiting", "Parking"] * 2  # two sources
    att = lines[0]
    assert att["x"] == ["2020", "2021"] and att["y"] == pytest.approx([100 / 3, 100 / 3])
    row = t[t.theme == "Attitude"].iloc[0]
    assert att["customdata"][0] == pytest.approx([100 * row.ci_low, 100 * row.ci_high, 1, 3])
    assert "95% interval" in att["hovertemplate"] and "(Staff)" in att["hovertemplate"]
    # one source shown at a time, picked from a menu
    assert [tr["visible"] for tr in lines] == [True] * 4 + [False] * 4
    assert [b["label"] for b in fig.layout.updatemenus[0].buttons] == ["human", "suggested"]
    ribbon = traces[1]
    assert ribbon["fill"] == "tonexty" and ribbon["showlegend"] is False
    with pytest.raises(ThemeassistError, match="column 'wave'"):
        plot_prevalence_interactive(t, by="wave")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (.ci/run installs it in CI)")
def test_plot_prevalence_interactive_renders_offline(table, tmp_path):
    cb, t = table
    path = tmp_path / "p.html"
    plot_prevalence_interactive(t, cb, path=path)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.resolve().as_uri()]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)  # type: ignore[arg-type]
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    assert dom.count('class="main-svg"') >= 2  # plotly.js ran under the CSP and drew the figure
    assert dom.count('class="trace scatter') == 12  # 4 themes x (lower edge, ribbon, line)
    assert ">Attitude<" in dom and ">Staff<" in dom and ">Access<" in dom


def test_a_parent_with_many_sub_themes_gets_a_panel_tall_enough(tmp_path):
    # 30 sub-themes under one parent: the legend must fit (matplotlib warns "axes sizes collapsed to
    # zero" and draws nothing readable when the panel is the default height)
    import warnings

    cb = Codebook.from_dict({"Method": [f"Cause number {i}" for i in range(30)], "Input": ["Other"]})
    codes = [f"Cause number {i % 30}" if i % 3 else "Other" for i in range(300)]
    t = prevalence(codes, period=[i % 2 for i in range(300)], codebook=cb)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_prevalence(t, cb)
        fig.savefig(tmp_path / "p.png", dpi=40)
    assert fig.get_size_inches()[1] > 6


def test_plot_tone_draws_a_parent_not_its_same_named_child():
    cb = Codebook.from_dict({"Care": ["Care", "Other"], "Staff": ["Attitude", "Other"]})
    texts = ["good care", "awful care", "great staff", "terrible staff"] * 10
    codes = ["Care > Care", "Care > Other", "Staff > Other", "Staff > Attitude"] * 10
    tt = tone_by_theme(score_tone(texts), codes, [1] * 20 + [2] * 20, codebook=cb)
    fig = plot_tone(tt)
    assert [a.get_title() for a in fig.axes] == ["(all comments)", "Care", "Staff"]
    parent = tt[(tt.theme_id == "care") & (tt.period == 1)]["mean"].iloc[0]
    drawn = fig.axes[1].lines[0].get_ydata()[0]  # the parent's mean, not its child "Care > Care"'s
    assert drawn == pytest.approx(parent)
    child = plot_tone(tt, themes=["Care > Care"]).axes[0].lines[0].get_ydata()[0]
    assert child == pytest.approx(tt[(tt.theme_id == "care.care") & (tt.period == 1)]["mean"].iloc[0])
