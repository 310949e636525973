"""Hostile trial, round 2: right answers, no hangs, clean one-line errors.

Reproduces: a silently dropped whitespace-only row; an unbalanced quote merging rows; a
100,000-column CSV that never finished loading; tracebacks for dates in year 9999/0001, for
permission errors (input, output, cache), a full disk, examples in Latin-1 / with a broken quote /
as .txt, ``--regime auto`` with 1-3 examples, list and binary parquet columns, ``--chunk-size 0``,
``--top-k 0``, a symlink loop and Ctrl-C; XLSX numeric headers and later sheets; the stray source
line printed with every CLI warning; ``discover --quiet`` drawing a bar.

Permission errors are tested with the capabilities that let root ignore file modes dropped
(``setpriv``), or as a normal user; they skip cleanly where neither is possible.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themeassist.cli import build_parser, main
from themeassist.corpus import load_corpus, read_comments
from themeassist.exceptions import CorpusError

THEMEASSIST = [sys.executable, "-m", "themeassist.cli"]
WORDS = ["waiting list far too long", "staff were kind", "parking is awful", "sessions felt rushed",
         "the therapist helped", "not enough rooms"]  # fmt: skip


def comments_csv(path: Path, n: int = 12) -> Path:
    pd.DataFrame({"id": [f"c{i}" for i in range(n)], "comment": [f"{WORDS[i % 6]} {i}" for i in range(n)]}).to_csv(
        path, index=False)  # fmt: skip
    return path


def run_cli(args: list[str], *, prefix: list[str] = (), timeout: float = 300, **kw) -> subprocess.CompletedProcess:  # type: ignore[assignment,type-arg]
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    return subprocess.run([*prefix, *THEMEASSIST, *args], capture_output=True, text=True, timeout=timeout, env=env,
                          **kw)  # fmt: skip


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:  # type: ignore[type-arg]
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, proc.stderr
    for w in words:
        assert w in errors[0], errors[0]


# ------------------------------------------------------------------------- rows and quotes


def test_whitespace_only_rows_of_a_one_column_csv_are_rows(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_bytes(b"comment\r\n \r\nA\r\n  \r\n")
    corpus = load_corpus(p, text_col="comment")
    assert corpus["status"].tolist() == ["empty", "ok", "empty"]
    p.write_bytes(b"comment\n\nA\n\nB\n\n\n")  # empty lines are empty answers; blank lines at the end are not rows
    assert load_corpus(p, text_col="comment")["status"].tolist() == ["missing", "ok", "missing", "ok"]


def test_an_unbalanced_quote_fails_naming_the_line(tmp_path: Path) -> None:
    lines = ["id,comment,site"] + [f"{i},comment number {i},Leeds" for i in range(50)]
    lines[12] = '11,"he said it was fine,Leeds'  # the quote opens and never closes properly
    lines[26] = '25,"a properly quoted, comment",York'
    p = tmp_path / "q.csv"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorpusError, match=r"line 13: a quoted field opens here .*not closed"):
        load_corpus(p, text_col="comment", id_col="id")
    lines[26] = "25,comment 25,York"  # now the quote runs to the end of the file
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorpusError, match=r"line 13: a quote opened on this line is never closed"):
        load_corpus(p, text_col="comment", id_col="id")


def test_multi_line_comments_are_not_mistaken_for_a_broken_quote(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": ["a", "b", "c"], "comment": ["line one\nline two, with a comma\nline three",
                                                           "fine", 'she said "ok",\nthen left']})  # fmt: skip
    p = tmp_path / "m.csv"
    df.to_csv(p, index=False)
    assert load_corpus(p, text_col="comment", id_col="id")["text"].tolist() == [
        "line one\nline two, with a comma\nline three", "fine", 'she said "ok",\nthen left']


def test_a_100000_column_csv_loads(tmp_path: Path) -> None:
    """It never finished before (column handling was quadratic); this guards against a hang."""
    p = tmp_path / "wide.csv"
    n = 100_000
    p.write_text(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join(["a real comment"] + [str(i) for i in
                                                                        range(1, n)]) + "\n")  # fmt: skip
    code = (f"from themeassist.corpus import load_corpus; c = load_corpus({str(p)!r}, text_col='c0'); "
            "print(c.shape[1], c['c99999'].iloc[0])")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert proc.stdout.split() == [str(n - 1 + 7), "99999"], proc.stderr


# ------------------------------------------------------------------------- values


def test_dates_in_year_9999_and_0001_get_no_period_with_a_reason() -> None:
    df = pd.DataFrame({"c": ["good care", "long wait", "kind staff"], "d": ["2021-03-05", "9999-12-31", "0001-01-01"]})
    corpus = load_corpus(df, text_col="c", period_col="d")
    assert corpus["period"].tolist() == ["2021-03", None, None]
    assert "outside the dates themeassist can hold" in corpus.loc[1, "reason"]


def test_list_and_binary_parquet_columns(tmp_path: Path) -> None:
    p = tmp_path / "c.parquet"
    pd.DataFrame({"comment": ["kind staff", None, "long wait"], "tags": [["a", "b"], [], ["c"]],
                  "blob": [b"\x00\x01", b"", b"x"], "raw": [b"bytes text", b"", b"y"]}).to_parquet(p)  # fmt: skip
    corpus = load_corpus(p, text_col="comment")
    assert corpus["status"].tolist() == ["ok", "missing", "ok"]
    with pytest.raises(CorpusError, match=r"text column 'tags' holds no text \(3 non_text\).*text_col='comment'"):
        load_corpus(p, text_col="tags")
    mixed = load_corpus(pd.DataFrame({"c": ["kind staff", ["a", "list"], b"raw bytes", np.array([1, 2])]}),
                        text_col="c")  # fmt: skip
    assert mixed["status"].tolist() == ["ok", "non_text", "non_text", "non_text"]
    assert "is a list" in mixed.loc[1, "reason"] and "is a bytes" in mixed.loc[2, "reason"]
    out = tmp_path / "o.csv"
    assert main(["suggest", str(p), "--text-col", "comment", "--codebook", "iapt", "--model", "static", "--quiet",
                 "--cache-dir", str(tmp_path / "cache"), "--out", str(out)]) == 0  # fmt: skip
    assert len(pd.read_csv(out)) == 3


def test_xlsx_numeric_headers_and_a_later_sheet(tmp_path: Path) -> None:
    p = tmp_path / "w.xlsx"
    with pd.ExcelWriter(p) as xl:
        pd.DataFrame({"notes": ["cover sheet"]}).to_excel(xl, sheet_name="About", index=False)
        pd.DataFrame({2021: ["kind staff", "long wait"], 7: [1, 2]}).to_excel(xl, sheet_name="Data", index=False)
    corpus = load_corpus(p, text_col="2021", sheet_name="Data")
    assert corpus["text"].tolist() == ["kind staff", "long wait"] and corpus["7"].tolist() == [1, 2]
    assert load_corpus(p, text_col="2021", sheet_name="1")["text"].tolist() == ["kind staff", "long wait"]
    with pytest.raises(CorpusError, match="no sheet 'Dtaa'.*'About', 'Data'"):
        load_corpus(p, text_col="2021", sheet_name="Dtaa")
    out = tmp_path / "o.csv"
    assert main(["suggest", str(p), "--sheet", "Data", "--text-col", "2021", "--codebook", "iapt", "--model",
                 "static", "--quiet", "--cache-dir", str(tmp_path / "cache"), "--out", str(out)]) == 0  # fmt: skip


# ------------------------------------------------------------------------- examples


@pytest.mark.parametrize("kind", ["latin1", "quote", "txt"])
def test_examples_are_read_with_the_corpus_reader(tmp_path: Path, kind: str, capsys) -> None:  # type: ignore[no-untyped-def]
    rows = [("Caf\u00e9 food was cold", "Resources"), ("Too many targets", "The Failing Professional"),
            ("No rooms free", "Resources"), ("Targets all day", "The Failing Professional")]  # fmt: skip
    text = "text;codes\n" + "\n".join(f"{t};{c}" for t, c in rows) + "\n"
    ex = tmp_path / ("ex.txt" if kind == "txt" else "ex.csv")
    if kind == "quote":
        text = text.replace("Too many targets", '"Too many targets').replace("No rooms free", "No rooms free")
        text = "text,codes\n" + "\n".join(f'{i},x' for i in range(3)) + "\n" + text.replace(";", ",")
    ex.write_bytes(text.encode("latin-1" if kind == "latin1" else "utf-8"))
    src = comments_csv(tmp_path / "c.csv")
    rc = main(["suggest", str(src), "--text-col", "comment", "--codebook", "iapt", "--examples", str(ex),
               "--model", "static", "--quiet", "--cache-dir", str(tmp_path / "cache"), "--out",
               str(tmp_path / "o.csv")])  # fmt: skip
    err = capsys.readouterr().err
    if kind == "quote":
        assert rc == 2 and "quote opened on this line is never closed" in err
    else:
        assert rc == 0, err
        assert read_comments(ex)["text"].iloc[0] == "Caf\u00e9 food was cold"


@pytest.mark.parametrize("n", [1, 3])
def test_regime_auto_with_one_to_three_examples_works(tmp_path: Path, n: int, capsys) -> None:  # type: ignore[no-untyped-def]
    ex = tmp_path / "ex.csv"
    pd.DataFrame({"text": ["too many targets"] * n, "codes": ["The Failing Professional"] * n}).to_csv(ex, index=False)
    src = comments_csv(tmp_path / "c.csv")
    out = tmp_path / "o.csv"
    rc = main(["suggest", str(src), "--text-col", "comment", "--codebook", "iapt", "--examples", str(ex),
               "--model", "static", "--quiet", "--cache-dir", str(tmp_path / "cache"), "--out", str(out)])
    assert rc == 0 and "(zero-shot regime)" in capsys.readouterr().out
    rc = main(["suggest", str(src), "--text-col", "comment", "--codebook", "iapt", "--examples", str(ex),
               "--regime", "few-shot", "--model", "static", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "--regime zero-shot" in err and "'auto'" not in err


# ------------------------------------------------------------------------- arguments and signals


@pytest.mark.parametrize("flag", ["--chunk-size", "--top-k"])
def test_zero_chunk_size_and_top_k_are_refused_by_the_parser(flag: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["suggest", "x.csv", "--text-col", "t", "--codebook", "iapt", "--out", "o.csv",
                                   flag, "0"])  # fmt: skip
    assert exc.value.code == 2 and "must be a whole number of at least 1" in capsys.readouterr().err


def test_a_symlink_loop_input_is_a_clean_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    loop = tmp_path / "loop.csv"
    os.symlink(loop, loop)
    rc = main(["suggest", str(loop), "--text-col", "c", "--codebook", "iapt", "--model", "static", "--out",
               str(tmp_path / "o.csv")])  # fmt: skip
    assert rc == 2 and "symlink loop" in capsys.readouterr().err


def test_a_full_disk_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import themeassist.io.tables as tables

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    src = comments_csv(tmp_path / "c.csv")
    monkeypatch.setattr(tables.os, "fsync", full)
    rc = main(["suggest", str(src), "--text-col", "comment", "--codebook", "iapt", "--model", "static", "--quiet",
               "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "o.csv")])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "no space left on the device" in err and "run the same command again" in err
    assert not (tmp_path / "o.csv").exists()


def test_ctrl_c_prints_how_to_resume_and_the_rerun_resumes(tmp_path: Path) -> None:
    # 6,000 comments in chunks of 100: the interrupt is sent as soon as the first chunk is on disk (read
    # from the run folder, not from the progress output, whose bars end no line), long before the 60th
    src = comments_csv(tmp_path / "c.csv", n=6000)
    args = ["suggest", str(src), "--text-col", "comment", "--codebook", "iapt", "--model", "static", "--regime",
            "zero-shot", "--chunk-size", "100", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "o.csv")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # a shell's background job inherits SIGINT ignored (and Python then installs no handler for it): a
    # user's Ctrl-C reaches a foreground run, so the child starts with the default disposition
    proc = subprocess.Popen([*THEMEASSIST, *args], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    run_folder = tmp_path / ".o.csv.run"
    deadline = time.monotonic() + 240
    def chunk_recorded() -> bool:  # a chunk on disk *and* in its manifest (the file comes first): resumable
        for manifest in run_folder.rglob("manifest.json"):  # the embedding pass keeps its own in embeddings/
            try:
                if json.loads(manifest.read_text()).get("chunks"):
                    return True
            except (OSError, ValueError):  # being replaced right now
                continue
        return False

    while time.monotonic() < deadline and proc.poll() is None:
        if chunk_recorded():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted: run the same command again to resume" in err and "Traceback" not in err
    again = run_cli(args)
    assert again.returncode == 0 and "resumed:" in again.stderr, again.stderr
    assert len(pd.read_csv(tmp_path / "o.csv")) == 6000


# ------------------------------------------------------------------------- warnings and bars


def test_cli_warnings_are_one_line_without_source(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    pd.DataFrame({"comment": WORDS, "status": ["x"] * 6}).to_csv(src, index=False)
    proc = run_cli(["suggest", str(src), "--text-col", "comment", "--codebook", "iapt", "--model", "static",
                    "--quiet", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "o.csv")])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert any(ln.startswith("warning: load_corpus: input column 'status' is kept as 'status_input'") for ln in lines)
    assert all(ln.startswith("warning: ") for ln in lines), proc.stderr  # no source line, no other chatter


@pytest.mark.slow
def test_discover_quiet_draws_no_bar_and_prints_no_library_chatter(tmp_path: Path) -> None:
    src = comments_csv(tmp_path / "c.csv", n=60)
    proc = run_cli(["discover", str(src), "--text-col", "comment", "--id-col", "id", "--model", "static", "--quiet",
                    "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "d")])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "%|" not in proc.stderr and "it/s" not in proc.stderr
    for noise in ("Repo card metadata block was not found", "LOAD REPORT", "Traceback"):
        assert noise not in proc.stderr


# ------------------------------------------------------------------------- permissions


def _unprivileged() -> list[str]:
    """A command prefix under which file modes apply, or skip."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: chmod does not stop root")
    prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import os; print(os.access('/root', os.W_OK))"],
                           capture_output=True, text=True)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.strip()}")
    return prefix


def test_an_unreadable_input_is_a_clean_error(tmp_path: Path) -> None:
    prefix = _unprivileged()
    src = comments_csv(tmp_path / "c.csv")
    src.chmod(0)
    proc = run_cli(["suggest", str(src), "--text-col", "comment", "--codebook", "iapt", "--model", "static",
                    "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "o.csv")], prefix=prefix)
    assert_one_line_error(proc, "permission denied", "c.csv")


def test_an_unwritable_output_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    prefix = _unprivileged()
    src = comments_csv(tmp_path / "c.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        proc = run_cli(["suggest", str(src), "--text-col", "comment", "--codebook", "iapt", "--model", "static",
                        "--cache-dir", str(tmp_path / "cache"), "--out", str(locked / "o.csv")], prefix=prefix)
    finally:
        locked.chmod(0o755)
    assert_one_line_error(proc, "permission denied", "locked")
    assert not (tmp_path / "cache").exists()  # refused before anything was embedded


def test_an_unwritable_cache_folder_is_a_clean_error(tmp_path: Path) -> None:
    prefix = _unprivileged()
    src = comments_csv(tmp_path / "c.csv")
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o500)
    try:
        proc = run_cli(["suggest", str(src), "--text-col", "comment", "--codebook", "iapt", "--model", "static",
                        "--cache-dir", str(cache), "--out", str(tmp_path / "o.csv")], prefix=prefix)
    finally:
        cache.chmod(0o755)
    assert_one_line_error(proc, "cache", "permission denied")
