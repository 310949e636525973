"""Messages of ``themeassist drift`` about code cells name the rows of the file they are about:
an audit's codes by the audit file's own rows (with their doc_ids), human codes once per kind
of warning with every row counted and listed (README "Row numbers in messages")."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themeassist.cli import main

CODEBOOK = """name: tiny
themes:
  - name: Customer
    children:
      - name: Customer
      - name: Conflicts
  - name: Design
    children:
      - name: Rework
      - name: Testing
  - name: Project
    children:
      - name: Rework
      - name: Budget
"""
LEAVES = ("customer.customer", "customer.conflicts", "design.rework", "design.testing", "project.rework",
          "project.budget")


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


@pytest.fixture
def audited(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    """A codebook, a suggestions file (as suggest writes it) and an audit drawn from it by `themeassist audit`."""
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    rng = np.random.default_rng(0)
    rows = []
    for k in range(80):
        sc = {t: round(float(rng.uniform(0, 1)), 3) for t in LEAVES}
        top = [t for t, v in sc.items() if v >= 0.5]
        rows.append({"doc_id": f"c{k + 1}", "period": 2020 + k // 40, "text": f"comment {k + 1}", "status": "ok",
                     "suggested_ids": "|".join(top), "suggested": "|".join(top),
                     **{f"score:{t}": v for t, v in sc.items()}})
    pd.DataFrame(rows).to_csv(tmp_path / "s.csv", index=False)
    assert main(["audit", str(tmp_path / "s.csv"), "--period-col", "period", "--per-period", "8", "--seed", "1",
                 "--out", str(tmp_path / "a.csv")]) == 0
    capsys.readouterr()
    return {"cb": tmp_path / "cb.yaml", "sugg": tmp_path / "s.csv", "audit": tmp_path / "a.csv", "dir": tmp_path}


def _drift_audit(files: dict[str, Path], codes: dict[int, str], capsys: pytest.CaptureFixture[str]
                 ) -> tuple[int, str, pd.DataFrame]:
    """Fill the audit's codes ('Budget', except the 0-based rows in ``codes``) and run drift on it."""
    a = pd.read_csv(files["audit"], dtype=str, keep_default_na=False)
    a["codes"] = [codes.get(i, "Budget") for i in range(len(a))]
    path = files["dir"] / "filled.csv"
    a.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = main(["drift", str(files["sugg"]), "--period-col", "period", "--audit", str(path), "--codebook",
                   str(files["cb"]), "--out", str(files["dir"] / "d"), "--quiet"])
    return rc, capsys.readouterr().err, a


def _sugg_row(files: dict[str, Path], doc_id: str) -> int:
    s = pd.read_csv(files["sugg"], dtype=str)
    return int(np.flatnonzero(s.doc_id == doc_id)[0]) + 1


def test_an_ambiguous_audit_code_names_the_audit_row_and_doc_id(audited, capsys) -> None:
    rc, err, a = _drift_audit(audited, {4: "Rework"}, capsys)
    doc = a.doc_id[4]
    assert _sugg_row(audited, doc) != 5  # else the suggestions row would pass for the audit row
    assert rc != 0
    where = f"audit file {str(audited['dir'] / 'filled.csv')!r}, row 5 (doc_id {doc!r}), column 'codes': "
    assert where in err and "'Rework' is ambiguous" in err
    assert "Write one of 'Design > Rework' or 'Project > Rework' instead." in err  # the fix hints stay
    assert "audit codes, row" not in err


def test_an_unknown_audit_code_names_the_audit_row_and_doc_id(audited, capsys) -> None:
    rc, err, a = _drift_audit(audited, {2: "Budget|Scope creep"}, capsys)
    assert rc != 0 and _sugg_row(audited, a.doc_id[2]) != 3
    assert f"row 3 (doc_id {a.doc_id[2]!r}), column 'codes': Codebook 'tiny': no theme named 'Scope creep'" in err


def test_a_same_named_audit_code_warns_with_the_audit_rows(audited, capsys) -> None:
    rc, err, a = _drift_audit(audited, {1: "Customer", 3: "CUSTOMER|Budget"}, capsys)
    assert rc == 0
    same = [w for w in _warnings(err) if "same-named sub-theme" in w]
    assert len(same) == 1, err
    name = str(audited["dir"] / "filled.csv")
    assert "in 2 rows (" in same[0] and "(also written 'CUSTOMER')" in same[0]
    assert f"audit file {name!r}, row 2 (doc_id {a.doc_id[1]!r}), column 'codes'" in same[0]
    assert f"audit file {name!r}, row 4 (doc_id {a.doc_id[3]!r}), column 'codes'" in same[0]


def test_human_code_warnings_come_once_per_kind_and_count_rows(tmp_path: Path, capsys) -> None:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    themes = (["Customer"] * 3 + ["CUSTOMER", "Testing", "Testing, Budget", "Testing, Budget", "Conflicts"]
              + ["Budget; Testing", "Testing;Budget", "Conflicts; Budget", "Design > Rework; Budget"] * 6)
    coded = pd.DataFrame({"id": range(1, len(themes) + 1), "themes": themes,
                          "date": [f"{2018 + i % 2}-0{1 + i % 9}-01" for i in range(len(themes))]})
    coded.to_csv(tmp_path / "coded.csv", index=False)
    assert main(["drift", str(tmp_path / "coded.csv"), "--period-col", "date", "--period-freq", "Y", "--codes-col",
                 "themes", "--codebook", str(tmp_path / "cb.yaml"), "--out", str(tmp_path / "d")]) == 0
    notes = _warnings(capsys.readouterr().err)
    comma = [n for n in notes if "joined by ','" in n]
    semi = [n for n in notes if "joined by ';'" in n]
    same = [n for n in notes if "same-named sub-theme" in n]
    assert len(comma) == 1 and "2 codes cells hold several codes joined by ',' instead of '|' (rows 6–7, column " \
                               "'themes')" in comma[0]
    assert len(semi) == 1 and "24 codes cells hold several codes joined by ';' instead of '|' (rows 9–32, column " \
                              "'themes')" in semi[0]
    assert len(same) == 1 and "'Customer' (also written 'CUSTOMER') names both 'Customer'" in same[0]
    assert "in 4 rows (rows 1–4, column 'themes')" in same[0]
