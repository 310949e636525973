"""Tests for themeassist.plots: figures with the expected axes, labels and files."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from themeassist.codebook import Codebook
from themeassist.drift import prevalence
from themeassist.exceptions import ThemeassistError
from themeassist.plots import plot_heatmap, plot_prevalence, plot_tone
from themeassist.tone import score_tone, tone_by_theme


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
    with pytest.raises(ThemeassistError, match="lacks columns"):
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
