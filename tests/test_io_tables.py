"""Tests for themeassist.io.tables: formula neutralisation, atomic writes, readers."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from themeassist.io import tables
from themeassist.io.tables import (
    atomic_write_bytes,
    atomic_write_text,
    neutralise_formulas,
    read_table,
    write_table,
)


@pytest.fixture
def hostile() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"],
            "text": [
                "=HYPERLINK(\"http://x\",\"click\")",
                "+1+2",
                "-5",
                "@SUM(A1:A2)",
                "\tcmd",
                "\rcmd",
                "good service - thanks",
                None,
            ],
            "score": [-1.5, 2.0, -3.0, 0.0, 1.0, 2.0, 3.0, -0.25],
            "n": [-1, 2, 3, 4, 5, 6, 7, 8],
        }
    )


def test_neutralise_formulas_escapes_exactly_the_dangerous_strings(hostile):
    out = neutralise_formulas(hostile)
    assert out["text"].tolist()[:6] == [
        "'=HYPERLINK(\"http://x\",\"click\")",
        "'+1+2",
        "'-5",
        "'@SUM(A1:A2)",
        "'\tcmd",
        "'\rcmd",
    ]
    # a dash inside the text is harmless; missing values stay missing
    assert out.loc[6, "text"] == "good service - thanks"
    assert out.loc[7, "text"] is None
    # numbers untouched, dtypes kept, every row kept, input not modified
    assert out["score"].tolist() == [-1.5, 2.0, -3.0, 0.0, 1.0, 2.0, 3.0, -0.25]
    assert out["n"].dtype == hostile["n"].dtype
    assert len(out) == len(hostile)
    assert hostile.loc[0, "text"].startswith("=")


def test_neutralise_formulas_handles_column_names_and_string_dtype():
    df = pd.DataFrame({"=bad": pd.array(["-", "ok"], dtype="string")})
    out = neutralise_formulas(df)
    assert list(out.columns) == ["'=bad"]
    assert out.iloc[:, 0].tolist() == ["'-", "ok"]
    assert isinstance(out.iloc[:, 0].dtype, pd.StringDtype)


def test_neutralise_formulas_rejects_non_frames():
    with pytest.raises(TypeError, match="DataFrame"):
        neutralise_formulas([["=1"]])  # type: ignore[arg-type]


def test_write_csv_is_neutralised_and_keeps_every_row(hostile, tmp_path):
    path = write_table(hostile, tmp_path / "a" / "b" / "out.csv")
    assert path == tmp_path / "a" / "b" / "out.csv"
    back = pd.read_csv(path, keep_default_na=True)
    assert len(back) == 8
    for cell in back["text"].dropna():
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert back["text"].iloc[2] == "'-5"
    assert back["text"].iloc[5] == "'\rcmd"  # the lone carriage return is quoted, not a row break
    assert back["n"].tolist() == [-1, 2, 3, 4, 5, 6, 7, 8]


def test_write_xlsx_is_neutralised(hostile, tmp_path):
    path = write_table(hostile, tmp_path / "out.xlsx")
    back = read_table(path)
    assert back["text"].iloc[0] == "'=HYPERLINK(\"http://x\",\"click\")"
    assert back["text"].iloc[3] == "'@SUM(A1:A2)"
    # openpyxl stores the escaped text as a string cell, never as a formula
    import openpyxl

    sheet = openpyxl.load_workbook(path).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert back["score"].tolist() == hostile["score"].tolist()


def test_write_parquet_keeps_values_exactly(hostile, tmp_path):
    path = write_table(hostile, tmp_path / "out.parquet")
    back = read_table(path)
    pd.testing.assert_frame_equal(back, hostile)


def test_write_table_index_and_bad_suffix(tmp_path):
    df = pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", "y"], name="key"))
    back = read_table(write_table(df, tmp_path / "t.csv", index=True))
    assert back.columns.tolist() == ["key", "a"]
    with pytest.raises(ValueError, match=r"unknown suffix '\.txt'.*\.csv, \.xlsx, \.parquet"):
        write_table(df, tmp_path / "t.txt")
    with pytest.raises(TypeError):
        write_table({"a": 1}, tmp_path / "t.csv")  # type: ignore[arg-type]


def test_read_table_jsonl_and_errors(tmp_path):
    atomic_write_text(tmp_path / "t.jsonl", '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n')
    back = read_table(tmp_path / "t.jsonl")
    assert back["a"].tolist() == [1, 2] and back["b"].tolist() == ["x", "y"]
    with pytest.raises(FileNotFoundError, match="no file"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="unknown suffix"):
        read_table(tmp_path / "t.pkl")


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new ✓\r\n")
    assert target.read_bytes() == "new ✓\r\n".encode("utf-8")
    atomic_write_bytes(tmp_path / "deep" / "er" / "g.bin", b"\x00\x01")
    assert (tmp_path / "deep" / "er" / "g.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "f.txt"]
    with pytest.raises(TypeError, match="bytes"):
        atomic_write_bytes(target, "text")  # type: ignore[arg-type]


def test_failed_write_keeps_old_file_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(tables.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_failed_serialisation_does_not_touch_target(tmp_path):
    target = tmp_path / "t.parquet"
    write_table(pd.DataFrame({"a": [1]}), target)
    bad = pd.DataFrame({"a": [object()]})  # parquet cannot store arbitrary objects
    with pytest.raises(Exception):
        write_table(bad, target)
    assert read_table(target)["a"].tolist() == [1]
    assert os.listdir(tmp_path) == ["t.parquet"]


def test_nan_and_numpy_numbers_untouched():
    df = pd.DataFrame({"x": [np.nan, -2.0], "o": [np.int64(-3), "-x"]})
    out = neutralise_formulas(df)
    assert np.isnan(out.loc[0, "x"]) and out.loc[1, "x"] == -2.0
    assert out["o"].tolist() == [-3, "'-x"]


# ---- the guard is undone exactly by readers of themeassist's own tables (issue 12) -------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from themeassist.io.tables import undo_formula_guard  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("'=+-@\t\rab |>"), max_size=6), min_size=1, max_size=8))
def test_undo_formula_guard_restores_every_cell(cells):
    df = pd.DataFrame({"suggested": cells})
    guarded = neutralise_formulas(df)
    assert all(not str(v).startswith(tables.FORMULA_PREFIXES) for v in guarded["suggested"])
    assert undo_formula_guard(guarded)["suggested"].tolist() == cells


def test_ids_and_names_survive_a_csv_and_xlsx_round_trip(tmp_path):
    df = pd.DataFrame({"doc_id": ["+44", "'=x", "-", "007"], "suggested": ["-ve feedback", "@home", "ok", "'"],
                       "suggested_ids": ["ve-feedback", "=odd", "+1", "a.b"]})
    for suffix in (".csv", ".xlsx"):
        path = write_table(df, tmp_path / f"t{suffix}")
        raw = read_table(path, dtype=str, keep_default_na=False)
        assert raw.loc[0, "doc_id"] == "'+44" and raw.loc[1, "doc_id"] == "''=x"  # what a spreadsheet shows
        pd.testing.assert_frame_equal(undo_formula_guard(raw), df)
    assert undo_formula_guard(df, columns=["doc_id", "nope"])["suggested"].tolist() == df["suggested"].tolist()


def test_read_table_reads_a_csv_as_a_spreadsheet_saved_it(tmp_path) -> None:
    df = pd.DataFrame({"doc_id": ["c7", "c2"], "text": ["Café; fine", "ok"], "p": [0.25, 1.5], "n": [3, 4]})
    df.to_csv(tmp_path / "plain.csv", index=False)
    df.assign(p=["0,25", "1,5"]).to_csv(tmp_path / "euro.csv", sep=";", encoding="cp1252", index=False)
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "plain.csv").read_bytes())
    for name in ("plain.csv", "euro.csv", "bom.csv"):
        pd.testing.assert_frame_equal(read_table(tmp_path / name), df)
    text = read_table(tmp_path / "euro.csv", dtype=str)  # cells as written when asked for text
    assert text["p"].tolist() == ["0,25", "1,5"] and text["text"].tolist() == ["Café; fine", "ok"]


def test_comments_from_themeassists_own_files_read_back_as_written(tmp_path):
    """load_corpus / read_examples on a CSV or XLSX that themeassist wrote give the texts (and ids,
    codes) exactly, not with the formula guard's apostrophe; `export` puts the same texts in a .qdpx."""
    import subprocess
    import sys
    import zipfile

    from themeassist.corpus import load_corpus
    from themeassist.mapping import read_examples

    texts = ['=HYPERLINK("http://x","y") lack of time', "+44 call me", "-ve feedback", "@channel deadlines",
             "'=already quoted", "plain answer"]
    df = pd.DataFrame({"doc_id": ["+1", "d2", "d3", "d4", "d5", "d6"], "text": texts,
                       "codes": ["-ve", "Time", "-ve", "Time", "Time", "Time"]})
    for suffix in (".csv", ".xlsx"):
        path = write_table(df, tmp_path / f"own{suffix}")
        corpus = load_corpus(path, text_col="text", id_col="doc_id")
        assert corpus["text"].tolist() == texts and corpus["doc_id"].tolist() == df["doc_id"].tolist()
        ex = read_examples(path, text_col="text", codes_col="codes")
        assert ex["text"].tolist() == texts and ex["codes"].tolist()[:2] == ["-ve", "Time"]
    (tmp_path / "cb.yaml").write_text("Problems:\n  - -ve\n  - Time\n", encoding="utf-8")
    cli = [sys.executable, "-m", "themeassist.cli", "export", str(tmp_path / "own.csv"), "--codebook",
           str(tmp_path / "cb.yaml"), "--text-col", "text", "--id-col", "doc_id", "--format", "qdpx",
           "--out", str(tmp_path / "own.qdpx")]
    subprocess.run(cli, check=True, capture_output=True, timeout=120)
    with zipfile.ZipFile(tmp_path / "own.qdpx") as z:
        sources = sorted(z.read(n).decode() for n in z.namelist() if n.endswith(".txt"))
    assert sources == sorted(texts)
