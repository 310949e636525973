"""Tests for themeassist.mapping.quality: a fitted mapper's held-out agreement with its own coded
examples, per theme, and what ``themeassist suggest`` prints of it. A real mapper on synthetic
embeddings (no text model) for the figures; the CLI with the static model on the IAPT demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themeassist.codebook import Codebook
from themeassist.exceptions import ParameterError
from themeassist.mapping import ThemeMapper
from themeassist.mapping.decision import leaf_kappa
from themeassist.mapping.quality import (
    QUALITY_COLUMNS,
    _bootstrap_kappa,
    held_out_quality,
)

CB = {"Care": ["Food", "Staff", "Noise"], "Access": ["Parking", "Signs"]}


def _mapper(seed: int = 0, noise: float = 0.6) -> ThemeMapper:
    """Food / Staff / Parking with 30 examples each, Noise with 2, Signs with none."""
    rng = np.random.default_rng(seed)
    protos = np.eye(16)[:5]
    y = np.r_[np.repeat([0, 1, 3], 30), [2, 2]]
    X = protos[y] * 2 + rng.normal(size=(len(y), 16)) * noise
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    names = ["Food", "Staff", "Noise", "Parking", "Signs"]
    ex = pd.DataFrame({"text": [f"c{i}" for i in range(len(y))], "codes": [names[j] for j in y]})
    return ThemeMapper(lexical=False, random_state=0).fit(Codebook.from_dict(CB), ex, embeddings=protos,
                                                          example_embeddings=X)


def test_held_out_quality_per_theme() -> None:
    m = _mapper()
    q = held_out_quality(m)
    t = q.table.set_index("theme_name")
    assert list(q.table.columns) == list(QUALITY_COLUMNS) and q.table.theme_id.tolist() == list(m.leaf_ids_)
    assert t.loc[["Food", "Staff", "Parking", "Noise", "Signs"], "n_examples"].tolist() == [30, 30, 30, 2, 0]
    assert t.loc[["Food", "Noise", "Signs"], "calibration"].tolist() == ["own", "pooled", "codebook only"]
    assert t.loc[["Food", "Noise"], "threshold_source"].tolist() == ["own", "shared"]
    assert np.allclose(q.table.threshold, m.thresholds_)
    # the figures are those of the mapper's own rule on its held-out scores, counted by hand here
    D = np.zeros(m.oof_proba_.shape, dtype=bool)
    for i, js in enumerate(m._decide(m.oof_proba_)):
        D[i, js] = True
    Y = m.oof_labels_ > 0
    food = m.leaf_ids_.index(t.loc["Food", "theme_id"])
    assert t.loc["Food", "n_suggested"] == D[:, food].sum()
    assert t.loc["Food", "precision"] == pytest.approx((D[:, food] & Y[:, food]).sum() / D[:, food].sum())
    assert t.loc["Food", "recall"] == pytest.approx((D[:, food] & Y[:, food]).sum() / 30)
    # separable themes: agreement is high; the mean is over the themes with >= 3 examples only
    assert q.n_judged == 3 and q.mean_kappa > 0.7
    assert q.mean_kappa == pytest.approx(m.decision_info_["kappa"])  # what the rule was tuned on
    assert q.mean_kappa == pytest.approx(t.loc[["Food", "Staff", "Parking"], "cohen_kappa"].mean())
    lo, hi = q.kappa_interval
    assert lo <= q.mean_kappa <= hi and hi - lo > 0.0
    assert q.codes_ratio == pytest.approx(D.sum() / Y.sum())
    text = q.summary()
    assert f"{q.mean_kappa:.2f}" in text and "92 coded examples" in text
    assert "fewer than 3 examples, calibrated together with the other themes (1): Noise." in text
    assert "no coded example, scored from the codebook alone (1): Signs." in text
    many = held_out_quality(_mapper(2, noise=1.5)).summary(max_items=2)
    assert "lowest held-out kappa: " in many and many.split("lowest held-out kappa: ")[1].count("; ") == 1


def test_held_out_quality_is_reproducible_and_needs_examples() -> None:
    m = _mapper(1, noise=1.5)
    q = held_out_quality(m)
    assert 0.2 < q.mean_kappa < 0.95 and q.kappa_interval[1] - q.kappa_interval[0] > 0.05
    assert q.kappa_interval == held_out_quality(m).kappa_interval
    # for 46 new comments (half the examples) the interval also holds their own sampling error
    p = held_out_quality(m, n_new=46)
    f = np.sqrt(1 + q.n_examples / 46)
    assert p.n_new == 46 and q.n_new is None and p.mean_kappa == q.mean_kappa
    for a, b in zip(p.kappa_interval, q.kappa_interval):
        assert a - q.mean_kappa == pytest.approx(f * (b - q.mean_kappa))
    assert "on the 46 comments to suggest" in p.summary() and "bootstrap interval" in q.summary()
    zs = ThemeMapper(lexical=False).fit(Codebook.from_dict(CB), None, embeddings=np.eye(16)[:5])
    with pytest.raises(ParameterError, match="no coded examples"):
        held_out_quality(zs)


def test_widened_interval_stays_inside_kappas_range() -> None:
    m = _mapper(1, noise=0.6)  # nearly separable: held-out kappa near 1
    q = held_out_quality(m, n_new=10)  # widened by sqrt(1 + 92 / 10), about 3x
    lo, hi = q.kappa_interval
    assert q.mean_kappa > 0.9 and hi == 1.0 and -1.0 <= lo < q.mean_kappa
    assert "to 1.00 on the 10 comments" in q.summary()


def test_bootstrap_interval_is_the_mean_kappa_of_resamples() -> None:
    rng = np.random.default_rng(0)
    Y = rng.random((3000, 4)) < 0.2
    D = (Y & (rng.random(Y.shape) < 0.7)) | (rng.random(Y.shape) < 0.05)
    M = np.ones(Y.shape, dtype=bool)
    big = _bootstrap_kappa(D, Y, M, np.random.default_rng(1))
    small = _bootstrap_kappa(D[:150], Y[:150], M[:150], np.random.default_rng(1))
    full = float(np.nanmean(leaf_kappa(D, Y, M)))
    assert abs(big.mean() - full) < 0.01
    assert small.std() > 2 * big.std()  # 20x fewer rows: about 4.5x the spread
    # one resample by hand: row counts as weights
    r = np.random.default_rng(5)
    idx = r.integers(0, 3000, 3000)
    by_hand = float(np.nanmean(leaf_kappa(D[idx], Y[idx], M[idx])))
    w = np.bincount(idx, minlength=3000).astype(float)
    assert float(np.nanmean(leaf_kappa(D, Y, M, w))) == pytest.approx(by_hand)


def test_suggest_prints_what_to_expect(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from themeassist.cli import main
    from themeassist.datasets import load_iapt_demo

    demo = load_iapt_demo()
    demo.to_csv(tmp_path / "demo.csv", index=False)
    demo[demo.year == "2015"][["doc_id", "text", "themes"]].to_csv(tmp_path / "coded.csv", index=False)
    common = ["--codebook", "iapt", "--text-col", "text", "--id-col", "doc_id", "--model", "static",
              "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main(["suggest", str(tmp_path / "demo.csv"), "--examples", str(tmp_path / "coded.csv"),
                 "--examples-codes-col", "themes", "--out", str(tmp_path / "s.csv"),
                 "--quality-out", str(tmp_path / "quality.csv"), *common]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(tmp_path / "quality.csv")
    assert list(table.columns) == list(QUALITY_COLUMNS) and len(table) == 18  # the IAPT codebook's leaves
    assert (table["n_examples"] >= 0).all() and table["calibration"].isin(["own", "pooled", "codebook only"]).all()
    judged = table[table["n_examples"] >= 3]["cohen_kappa"].mean()
    line = next(x for x in printed.splitlines() if x.startswith("held out"))
    from themeassist.mapping import read_examples, used_examples

    n_used = len(used_examples(read_examples(tmp_path / "coded.csv", codes_col="themes")))
    assert 100 < n_used < int((demo.year == "2015").sum())  # non-answers are kept but not learnt from
    assert f"each of the {n_used} coded examples" in line and "mean per-theme kappa" in line
    kappa = float(line.split("mean per-theme kappa ")[1].split(" ")[0])
    assert 0.0 < kappa <= 1.0 and kappa == pytest.approx(judged, abs=0.005)  # the file says what was printed
    assert main(["suggest", str(tmp_path / "demo.csv"), "--out", str(tmp_path / "z.csv"), *common]) == 0
    assert "cannot be estimated without coded examples" in capsys.readouterr().out
    assert main(["suggest", str(tmp_path / "demo.csv"), "--examples", str(tmp_path / "coded.csv"),
                 "--examples-codes-col", "themes", "--regime", "zero-shot", "--out", str(tmp_path / "z2.csv"),
                 *common]) == 0
    assert f"the {n_used} coded examples were not learnt from" in capsys.readouterr().out
    # --quality-out: not the --out file, and only with coded examples; nothing is written when refused
    assert main(["suggest", str(tmp_path / "demo.csv"), "--examples", str(tmp_path / "coded.csv"),
                 "--examples-codes-col", "themes", "--out", str(tmp_path / "same.csv"),
                 "--quality-out", str(tmp_path / "same.csv"), *common]) == 2
    assert "is the --out file" in capsys.readouterr().err and not (tmp_path / "same.csv").exists()
    assert main(["suggest", str(tmp_path / "demo.csv"), "--out", str(tmp_path / "z3.csv"),
                 "--quality-out", str(tmp_path / "q3.csv"), *common]) == 2
    assert "--quality-out is learnt from held-out coded examples" in capsys.readouterr().err
    assert not (tmp_path / "z3.csv").exists() and not (tmp_path / "q3.csv").exists()
