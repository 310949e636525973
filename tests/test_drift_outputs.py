"""``themeassist drift --out DIR``: folder modes, nothing left by a failed run, no stale files from an
earlier run, --method checked against --audit, and the columns of an audit-corrected prevalence.csv.

Every test runs the CLI on real files written to ``tmp_path``: human codes (``--codes-col``, no model)
or a suggestions file with ``score:<theme_id>`` columns and an audit filled with the true codes.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themeassist.cli import main
from themeassist.codebook import Codebook

THEMES = ("staff.attitude", "staff.competence", "access")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """codebook.yaml, human.csv (codes, group, text, respondent), sugg.csv and a filled audit.csv."""
    src = tmp_path / "in"
    src.mkdir()
    Codebook.from_dict({"Staff": ["Attitude", "Competence"], "Access": None}).to_yaml(src / "codebook.yaml")
    rng = np.random.default_rng(0)
    rows, truth = [], []
    for year, p_access in ((2020, 0.1), (2021, 0.3)):
        for _ in range(120):
            labs = [t for t, p in (("staff.attitude", 0.2), ("staff.competence", 0.1), ("access", p_access))
                    if rng.random() < p]
            sc = {t: float(np.clip((0.7 if t in labs else 0.1) + rng.normal(0, 0.15), 0, 1)) for t in THEMES}
            i = len(rows)
            rows.append({"doc_id": f"c{i}", "status": "ok", "text": "kind staff, long wait" if i % 2 else "awful",
                         "year": year, "resp": f"r{i % 80}", "team": "north" if i % 3 else "south",
                         "suggested_ids": "|".join(t for t, v in sc.items() if v >= 0.5),
                         **{f"score:{t}": v for t, v in sc.items()}})
            truth.append("|".join(labs) or "none")
    df = pd.DataFrame(rows)
    df["suggested"] = df["suggested_ids"]
    df.to_csv(src / "sugg.csv", index=False)
    df.assign(codes=[t if t != "none" else "" for t in truth]).drop(
        columns=[c for c in df.columns if c.startswith(("score:", "suggested"))]).to_csv(src / "human.csv", index=False)
    assert main(["audit", str(src / "sugg.csv"), "--period-col", "year", "--per-period", "40", "--seed", "1",
                 "--out", str(src / "audit.csv")]) == 0
    audit = pd.read_csv(src / "audit.csv")
    audit["codes"] = [dict(zip(df.doc_id, truth))[d] for d in audit.doc_id]
    audit.to_csv(src / "audit.csv", index=False)
    bad = audit.copy()
    bad.loc[3, "codes"] = "No such theme"
    bad.to_csv(src / "audit_unknown.csv", index=False)
    return {"cb": src / "codebook.yaml", "human": src / "human.csv", "sugg": src / "sugg.csv",
            "audit": src / "audit.csv", "audit_unknown": src / "audit_unknown.csv"}


def drift(files: dict[str, Path], out: Path, *extra: str, source: str = "human") -> int:
    args = ["drift", str(files[source]), "--period-col", "year", "--codebook", str(files["cb"]), "--out", str(out)]
    if source == "human":
        args += ["--codes-col", "codes"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return main(args + list(extra))


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(folder.rglob("*"))}


def test_every_folder_drift_creates_is_0700_whatever_the_umask(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "new" / "drift"
    old = os.umask(0o022)
    try:
        assert drift(files, out, "--tone") == 0
    finally:
        os.umask(old)
    for folder in (tmp_path / "new", out, out / "figures"):
        assert oct(stat.S_IMODE(folder.stat().st_mode)) == oct(0o700), folder
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) > 8 and {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o600}


@pytest.mark.parametrize("case", ["unknown audit code", "unknown group column"])
def test_a_failed_drift_leaves_nothing_it_created(files: dict[str, Path], tmp_path: Path, case: str,
                                                  capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "runs" / "drift"
    if case == "unknown audit code":
        rc = drift(files, out, "--audit", str(files["audit_unknown"]), source="sugg")
        why = "No such theme"
    else:
        rc = drift(files, out, "--group-col", "teem")
        why = "'teem' not found"
    err = capsys.readouterr().err
    assert rc == 2 and why in err and err.startswith("themeassist drift: error: ") and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_a_failed_drift_leaves_an_existing_folder_as_it_was(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "drift"
    assert drift(files, out) == 0
    (out / "notes.txt").write_text("mine")
    before = tree(out)
    assert drift(files, out, "--group-col", "teem", "--tone") == 2
    assert tree(out) == before


def test_a_rerun_removes_the_earlier_runs_files_it_does_not_write_again(files: dict[str, Path], tmp_path: Path,
                                                                       capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "drift"
    assert drift(files, out, "--tone", "--group-col", "team") == 0
    first = set(json.loads((out / "manifest.json").read_text())["files"])
    assert {"tone.csv", "group_prevalence.csv", "group_changes.csv", "figures/tone.png"} <= first
    (out / "notes.txt").write_text("mine")  # the user's file, never touched
    (out / "figures" / "mine.png").write_bytes(b"mine")
    assert drift(files, out) == 0
    listed = set(json.loads((out / "manifest.json").read_text())["files"])
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk == listed | {"manifest.json", "notes.txt", "figures/mine.png"}
    assert not {"tone.csv", "group_prevalence.csv", "group_changes.csv", "figures/tone.png"} & on_disk
    assert (out / "notes.txt").read_text() == "mine" and (out / "figures" / "mine.png").read_bytes() == b"mine"


def test_a_rerun_keeps_an_earlier_file_the_user_changed_and_says_so(files: dict[str, Path], tmp_path: Path,
                                                                     capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "drift"
    assert drift(files, out, "--tone") == 0
    (out / "tone.csv").write_text("my edits\n")
    capsys.readouterr()
    assert drift(files, out) == 0
    err = capsys.readouterr().err
    assert "warning: run_drift: 1 file(s) of an earlier run" in err and "(tone.csv)" in err
    assert (out / "tone.csv").read_text() == "my edits\n" and not (out / "figures" / "tone.png").exists()
    assert "tone.csv" not in json.loads((out / "manifest.json").read_text())["files"]


@pytest.mark.parametrize("method", ["classify_count", "human"])
def test_a_count_method_with_an_audit_is_refused_before_any_work(files: dict[str, Path], tmp_path: Path,
                                                                 method: str, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "drift"
    assert drift(files, out, "--audit", str(files["audit"]), "--method", method, source="sugg") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"themeassist drift: error: --method {method} does not go with --audit")
    assert err.count("\n") == 1 and "audit_prevalence" not in err
    assert "auto, ppi, pacc or emq" in err and "classify_count" in err and "human" in err
    assert not out.exists()
    # the fix the message gives works: an audit-corrected method with --audit, or the count without it
    assert drift(files, out, "--audit", str(files["audit"]), "--method", "pacc", source="sugg") == 0
    assert drift(files, tmp_path / "counted", "--method", "classify_count", source="sugg") == 0


def test_an_audit_method_without_an_audit_is_refused_with_cli_names(files: dict[str, Path], tmp_path: Path,
                                                                    capsys) -> None:  # type: ignore[no-untyped-def]
    assert drift(files, tmp_path / "drift", "--method", "emq", source="sugg") == 2
    err = capsys.readouterr().err
    assert "--method emq needs --audit" in err and "audit=" not in err and not (tmp_path / "drift").exists()


def test_audit_corrected_prevalence_has_no_unfilled_respondent_columns(files: dict[str, Path],
                                                                       tmp_path: Path) -> None:
    respondent = ("n_theme_respondents", "respondent_prevalence", "respondent_ci_low", "respondent_ci_high",
                  "design_effect")
    assert drift(files, tmp_path / "a", "--audit", str(files["audit"]), "--respondent-col", "resp",
                 source="sugg") == 0
    p = pd.read_csv(tmp_path / "a" / "prevalence.csv")
    assert not set(respondent) & set(p.columns)
    assert p.n_respondents.notna().all() and p[["prevalence", "ci_low", "ci_high"]].notna().all().all()
    assert drift(files, tmp_path / "h", "--respondent-col", "resp") == 0
    h = pd.read_csv(tmp_path / "h" / "prevalence.csv")
    assert h[list(respondent)].notna().all().all()
