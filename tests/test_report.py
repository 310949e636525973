"""Tests for themeassist.report: one self-contained, escaped HTML file, rendered in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from themeassist.codebooks import iapt_wellbeing  # noqa: E402
from themeassist.exceptions import ThemeassistError  # noqa: E402
from themeassist.io.tables import write_table  # noqa: E402
from themeassist.report import render_report, write_report  # noqa: E402

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> too many targets & "no" time'


def _run_folder(root: Path) -> Path:
    """A small but complete run folder, written the way the pipeline writes it (write_table)."""
    run = root / "run"
    (run / "figures").mkdir(parents=True)
    cb = iapt_wellbeing()
    hier = cb.to_frame()
    hier["n_human"] = 0
    hier["n_suggested"] = 0
    hier["n_candidates"] = 0
    hier["found"] = hier["name"].isin(["The Failing Professional", "Resources"]) | ~hier["is_leaf"]
    hier.loc[hier["name"] == "The Failing Professional", ["n_human", "n_suggested", "n_candidates"]] = [7, 9, 1]
    write_table(hier, run / "hierarchy.csv")
    corpus = pd.DataFrame({
        "doc_id": ["d1", "d2", "d3", "d4"],
        "row": [0, 1, 2, 3],
        "text": [HOSTILE, "-5 stars, targets again", "Supervision keeps me going", ""],
        "period": ["2014", "2014", "2015", "2015"],
        "status": ["ok", "ok", "ok", "empty"],
        "reason": ["", "", "", "empty text"],
    })
    write_table(corpus, run / "corpus.csv")
    write_table(pd.DataFrame({
        "candidate_id": [-1, 0, 1],
        "label": ["Outliers", "targets / recovery / numbers", "<b>supervision</b>"],
        "keywords": ["", "targets|recovery|numbers", "supervision|reflective"],
        "n_docs": [1, 2, 1], "share": [1 / 3, 2 / 3, 1 / 3],
        "representative_doc_ids": ["", "d1|d2", "d3"],
    }), run / "candidate_codes.csv")
    write_table(pd.DataFrame({  # the columns of themeassist.mapping.Alignment.candidates
        "candidate_id": [0, 0, 1], "label": ["targets / recovery / numbers"] * 2 + ["<b>supervision</b>"],
        "n_docs": [2, 2, 1], "theme_id": ["systemic-design.the-failing-professional", "workplace-culture.resources", ""],
        "theme_name": ["The Failing Professional", "Resources", ""],
        "theme_path": ["Wellbeing > Systemic Design > The Failing Professional",
                       "Wellbeing > Workplace Culture & Context > Resources", ""],
        "similarity": [0.71, 0.3, 0.22], "share": [1.0, 0.5, 0.0], "rank": [1, 2, 0],
        "possible_new_theme": [False, False, True], "relation": ["matches", "matches", "possible new theme"],
        "keywords": ["targets|recovery", "targets|recovery", "supervision|reflective"],
        "quotes": ["", "", "'Supervision keeps me going'"],
    }), run / "alignment.csv")
    write_table(pd.DataFrame({
        "period": ["2014", "2015"] * 2, "theme": ["The Failing Professional"] * 2 + ["Resources"] * 2,
        "n_comments": [2, 1, 2, 1], "n_theme": [2, 0, 1, 1], "prevalence": [1.0, 0.0, 0.5, 1.0],
        "ci_low": [0.34, 0.0, 0.09, 0.21], "ci_high": [1.0, 0.79, 0.91, 1.0], "method": ["human"] * 4,
    }), run / "prevalence.csv")
    write_table(pd.DataFrame({"theme": ["The Failing Professional"], "p_trend": [0.004], "flag": ["vanishes"]}),
                run / "changes.csv")
    periods = pd.DataFrame({  # the columns of themeassist.drift.candidate_periods, code 1 new in 2015
        "candidate_id": [0, 0, 1, 1], "label": ["targets / recovery / numbers"] * 2 + ["<b>supervision</b>"] * 2,
        "keywords": ["targets|recovery"] * 2 + ["supervision|reflective"] * 2, "period": ["2014", "2015"] * 2,
        "n_comments": [40, 50, 40, 50], "n_excluded": [1, 0, 1, 0], "n_code": [12, 15, 0, 9],
        "share": [0.3, 0.3, 0.0, 0.18], "ci_low": [0.18, 0.19, 0.0, 0.1], "ci_high": [0.45, 0.44, 0.09, 0.31],
        "state": ["present", "present", "absent", "present"], "flag": ["", "", "", "appears"],
        "first_present": ["2014", "2014", "2015", "2015"], "new_period": ["", "", "2015", "2015"],
        "new_in_period": [False, False, False, True],
    })
    write_table(periods, run / "candidate_periods.csv")
    write_table(periods[periods["new_in_period"]], run / "new_candidates.csv")
    (run / "figures" / "prevalence_interactive.html").write_text("<!doctype html><p>interactive</p>", "utf-8")
    (run / "summary.txt").write_text("- The Failing Professional vanishes in 2015 <b>(p=0.004)</b>\n", "utf-8")
    write_table(pd.DataFrame({"theme": ["The Failing Professional"], "precision": [0.5], "recall": [1.0],
                              "f1": [0.667]}), run / "agreement.csv")
    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.plot([2014, 2015], [0.8, 0.2], color="tab:red")
    ax.set_title("Prevalence")
    fig.savefig(run / "figures" / "prevalence_lines.png", dpi=80)
    fig.savefig(run / "figures" / "prevalence_lines.svg")
    plt.close(fig)
    manifest = {"title": "Test run <i>", "note": "Illustrative data only.", "params": {"random_state": 0},
                "versions": {"themeassist": "0.1.0"}, "figures": {"prevalence_lines": "Prevalence per year"},
                "files": {"corpus.csv": {"sha256": "0" * 64, "bytes": 10}}}
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run_folder(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def page(run_dir: Path) -> str:
    return write_report(run_dir, run_dir / "out" / "report.html").read_text(encoding="utf-8")


def test_every_section_present(page: str) -> None:
    for key in ("overview", "hierarchy", "candidates", "mapping", "prevalence", "changes", "emerging",
                "agreement", "provenance"):
        assert f'<section id="{key}">' in page
    assert "New-theme candidates" in page and "Themes not found" in page


def test_untrusted_text_is_escaped(page: str) -> None:
    assert "<script" not in page.lower()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;supervision&lt;/b&gt;" in page and "<b>supervision</b>" not in page
    assert "&lt;b&gt;(p=0.004)&lt;/b&gt;" in page
    assert "Test run &lt;i&gt;" in page


def test_self_contained(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, flags=re.I)
    assert "<link" not in page.lower() and "@import" not in page
    assert "default-src 'none'" in page
    imgs = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(imgs) == 1 and imgs[0].startswith("data:image/png;base64,")  # PNG preferred over the SVG twin


def test_values_shown(page: str) -> None:
    # formula-neutralising apostrophe from write_table is removed for display
    assert "-5 stars, targets again" in page and "&#x27;-5 stars" not in page
    # shares and prevalence as percentages, the outlier count in the note
    assert "66.7%" in page and "1 comments were left as outliers" in page
    # the prevalence table: 100% (34–100) for 2014
    assert "100% (34–100)" in page
    # themes not found: the 16 leaves whose 'found' is False
    mapping = page.split('<section id="mapping">')[1].split("</section>")[0]
    assert mapping.count("not found</span>") == 16 and "Themes not found (16)" in mapping
    assert "not found</span> Reflective Space &amp; Preparation" in mapping
    assert "not found</span> Resources" not in mapping and "not found</span> The Failing" not in mapping
    # the new-theme candidate with its quote, and the mapping table: one row per code, both matches
    assert '<span class="tag new">new</span> <b>&lt;b&gt;supervision&lt;/b&gt;</b>' in page
    assert "New-theme candidates (1)" in mapping and "Supervision keeps me going" in mapping
    assert mapping.count("<tr><td><b>targets / recovery / numbers</b>") == 1
    assert "100.0% of its comments, similarity 0.71" in mapping and "50.0% of its comments" in mapping
    assert "Prevalence per year" in page  # caption from the manifest


def test_new_candidates_and_the_interactive_link(page: str, run_dir: Path) -> None:
    new = page.split('<section id="emerging">')[1].split("</section>")[0]
    assert "<h2>Candidate codes new in a period</h2>" in new and "at least 3 comments" in new
    # the one new code: escaped label, keywords, the period, its counts and the earlier period's
    assert new.count("<tr><td>") == 1 and "<b>&lt;b&gt;supervision&lt;/b&gt;</b>" in new
    assert '<span class="kw">reflective</span>' in new and "<td>2015</td>" in new
    assert "9 of 50" in new and "18.0%" in new and "2014: 0 of 40" in new
    assert "targets / recovery" not in new  # present from the first period: not new
    # the report runs no script: the interactive figure is a relative link to its own file
    assert '<a href="../figures/prevalence_interactive.html">' in page  # the report is in run/out/
    assert '<a href="figures/prevalence_interactive.html">' in render_report(run_dir)
    none = run_dir.parent / "none"
    none.mkdir()
    write_table(pd.DataFrame(columns=["candidate_id", "period", "n_code", "n_comments"]), none / "new_candidates.csv")
    quiet = render_report(none)
    assert "No candidate code is new in a period." in quiet and "prevalence_interactive" not in quiet


def test_partial_folder_and_default_output(tmp_path: Path) -> None:
    write_table(pd.DataFrame({"candidate_id": [0], "label": ["alone"], "n_docs": [3], "keywords": ["a|b"]}),
                tmp_path / "candidate_codes.csv")
    out = write_report(tmp_path)
    assert out == tmp_path / "report.html"
    text = out.read_text(encoding="utf-8")
    assert "alone" in text and "No hierarchy.csv in this run." in text and "No alignment.csv" in text


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ThemeassistError, match="does not exist"):
        write_report(tmp_path / "nope")
    with pytest.raises(ThemeassistError, match="none of the files"):
        render_report(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "prevalence.csv")
    with pytest.raises(ThemeassistError, match="manifest.json is not valid JSON"):
        render_report(tmp_path)


# ---- headless Chromium ------------------------------------------------------------------------
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)  # type: ignore[list-item]


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium; "
                                             ".ci/run installs it in CI)")
def test_renders_in_headless_chromium(run_dir: Path, page: str, tmp_path: Path) -> None:
    from PIL import Image

    html_path = run_dir / "out" / "report.html"
    url = html_path.resolve().as_uri()
    dom = chromium(["--dump-dom", url], tmp_path / "profile1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    for heading in ("Overview", "Theme hierarchy and counts", "Candidate codes",
                    "Mapping candidate codes to the codebook", "Prevalence over time", "Change summary",
                    "Candidate codes new in a period",
                    "Agreement with human coding", "Provenance"):
        assert f"<h2>{heading}</h2>" in rendered.replace("&amp;", "&")
    assert "The Failing Professional" in rendered and "targets / recovery / numbers" in rendered
    assert "<script>alert" not in rendered  # the hostile comment stays text in the live DOM
    shot = tmp_path / "shot.png"
    res = chromium([f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars", url],
                   tmp_path / "profile2")
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[:2] == (2000, 1280)
    colours = np.unique(img.reshape(-1, 3)[::97], axis=0)
    assert len(colours) > 50  # text, bars and the header: not a blank page
    header = img[:60, :, :].reshape(-1, 3).mean(axis=0)
    assert header[2] < 120  # the dark header band rendered (CSS applied)


def test_only_real_images_are_embedded(tmp_path: Path) -> None:
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "fake.png").write_text("<html>not an image</html>", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret", encoding="utf-8")
    (tmp_path / "figures" / "link.png").symlink_to(secret)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1])
    fig.savefig(tmp_path / "figures" / "real.svg")
    plt.close(fig)
    page = render_report(tmp_path)
    assert "fake.png is not a PNG image; not embedded." in page
    assert page.count("data:image/svg+xml;base64,") == 1 and "data:image/png" not in page
    import base64

    assert base64.b64encode(b"top secret").decode() not in page and "link.png" not in page


def test_discover_folder_shows_representative_comments(tmp_path: Path) -> None:
    # a folder written by `themeassist discover`: no corpus.csv, the quotes are in the table itself
    pd.DataFrame({"candidate_id": [0, 1], "label": ["waiting times", "staff"], "n_docs": [3, 2],
                  "keywords": ["wait|time", "staff"], "representative_doc_ids": ["d1|d2", "d7"],
                  "representative_quotes": ["Waited <six> hours\nToo long a wait", "Lovely nurses"]}).to_csv(
        tmp_path / "candidate_codes.csv", index=False)
    page = render_report(tmp_path)
    cell = page.split("Representative comments")[1]
    assert "<blockquote>Waited &lt;six&gt; hours <span class='muted'>(d1)</span></blockquote>" in cell
    assert "Too long a wait" in cell and "Lovely nurses" in cell


def test_discover_folder_overview_accounts_for_every_row(tmp_path: Path) -> None:
    # `discover --out` writes assignments.csv (one row per input row) and model/manifest.json, no corpus.csv
    import json

    pd.DataFrame({"candidate_id": [0], "label": ["waiting"], "n_docs": [3], "keywords": ["wait"],
                  "representative_doc_ids": ["d1"], "representative_quotes": ["Waited"]}).to_csv(
        tmp_path / "candidate_codes.csv", index=False)
    pd.DataFrame({"doc_id": [f"d{i}" for i in range(6)],
                  "status": ["ok", "ok", "ok", "ok", "non_answer", "empty"],
                  "candidate_id": [0, 0, 0, 0, None, None], "is_outlier": [False] * 6,
                  "assigned_by": ["cluster", "cluster", "reassigned", "cluster", None, None]}).to_csv(
        tmp_path / "assignments.csv", index=False)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "manifest.json").write_text(json.dumps({"kind": "discovery", "model_id": "static:x",
                                                                   "created": "2026-12-06T10:00:00+00:00"}))
    page = render_report(tmp_path)
    overview = " ".join(re.sub("<[^>]+>", " ", page.split('id="overview"')[1].split("</section>")[0]).split())
    assert "No manifest.json" not in page
    assert "6 input rows 4 substantive comments 1 outliers given their nearest code" in overview
    assert "non_answer 1, empty 1" in overview and "static:x" in page


def test_themes_that_share_a_name_keep_their_own_rows_in_the_report_and_the_heatmap(tmp_path):
    # "Other" under two parents, "Care" a parent and its child: the prevalence table pivots by theme,
    # and merging same-named themes there would show one theme's figures for both
    from themeassist.codebook import Codebook
    from themeassist.plots import plot_heatmap
    from themeassist.workflows import run_drift

    cb = Codebook.from_dict({"Care": ["Care", "Other"], "Staff": ["Attitude", "Other"]})
    codes = (["Care > Other"] * 20 + ["Staff > Other"] * 5 + ["Care > Care"] * 10 + [""] * 65) * 2
    df = pd.DataFrame({"year": [2020] * 100 + [2021] * 100, "codes": codes})
    res = run_drift(df, period_col="year", codes_col="codes", codebook=cb, out_dir=tmp_path / "run", figures=False)
    page = render_report(tmp_path / "run")
    for label, share in (("Care &gt; Other", "20%"), ("Staff &gt; Other", "5%"), ("Care &gt; Care", "10%")):
        row = re.search(rf"<tr><td>{label}</td><td>([^<]*)</td>", page)
        assert row is not None and row.group(1).startswith(share), label
    ax = plot_heatmap(res.prevalence).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(set(labels)) and "Staff > Other" in labels


@pytest.mark.parametrize("held_out, shown", [
    ({"mean_kappa": 0.61, "kappa_interval": [0.5, 0.7], "n_examples": 120},
     ("the mapper's 120 coded examples, each scored without it): mean per-theme kappa 0.61 (likely 0.50 to 0.70); "
      "measured here: 0.45.")),
    ({"mean_kappa": 0.61, "kappa_interval": "wide", "n_examples": "many"},
     "the mapper's coded examples, each scored without it): mean per-theme kappa 0.61; measured here: 0.45."),
    ({"mean_kappa": "<b>x</b>"}, None),
    (None, None),
])
def test_agreement_note_sets_expected_beside_measured(tmp_path: Path, held_out: object, shown: str | None) -> None:
    run = tmp_path / "run"
    run.mkdir()
    write_table(pd.DataFrame({"theme_id": ["a", "b", "c", "all"], "theme_name": ["A", "B", "C", "macro average"],
                              "level": ["leaf", "leaf", "leaf", "macro"], "n_docs": [50] * 4,
                              "n_human": [10, 4, 2, 16], "cohen_kappa": [0.5, 0.4, 0.9, 0.6]}), run / "agreement.csv")
    (run / "manifest.json").write_text(json.dumps({"held_out": held_out}), encoding="utf-8")
    page = write_report(run, run / "report.html").read_text(encoding="utf-8")
    assert '<section id="agreement">' in page
    if shown is None:
        assert "Expected before any suggestion was read" not in page
    else:  # the measured mean is over leaves with >= 3 human codes: (0.5 + 0.4) / 2
        assert "Expected before any suggestion was read" in page and shown in page


def test_cli_report_out_must_be_an_html_page(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from themeassist.cli import main
    from themeassist.io.tables import write_table

    run = tmp_path / "run"
    write_table(pd.DataFrame({"candidate_id": [0], "label": ["x"], "n_docs": [3]}), run / "candidate_codes.csv")
    assert main(["report", str(run), "--out", str(tmp_path / "r.txt")]) == 2
    assert "pass a path ending in .html" in capsys.readouterr().err and not (tmp_path / "r.txt").exists()
    assert main(["report", str(run), "--out", str(tmp_path / "r.html")]) == 0


def test_a_drift_audit_folder_shows_the_raw_counts_beside_the_corrected_estimate(tmp_path: Path) -> None:
    # `drift --audit` writes the suggestions counted to suggested_prevalence.csv; the report says it shows them
    rows = [{"period": p, "theme": "Waits", "theme_id": "waits", "prevalence": v, "ci_low": v - 0.05,
             "ci_high": v + 0.05, "n_checked": 40, "source": "pacc"} for p, v in (("2020", 0.2), ("2021", 0.3))]
    pd.DataFrame(rows).to_csv(tmp_path / "prevalence.csv", index=False)
    pd.DataFrame([{**r, "prevalence": r["prevalence"] + 0.1, "source": "suggested"} for r in rows]).drop(
        columns="n_checked").to_csv(tmp_path / "suggested_prevalence.csv", index=False)
    page = render_report(tmp_path)
    assert "Raw suggestion counts carry the model's errors and are shown beside it" in page
    assert "Prevalence by period — audit-corrected" in page and "Prevalence by period — suggestions counted" in page
    assert page.index("audit-corrected (") < page.index("suggestions counted (")  # the corrected one first
    assert "80 comments were checked by a coder" in page
