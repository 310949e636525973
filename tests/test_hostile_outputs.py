"""Hostile trial, round 2: themeassist never destroys what it did not write.

Each test reproduces one reported failure: a run folder that was not made by themeassist
(``--run-dir victim``, ``--run-dir .``), ``models build-static`` over an existing folder, an output
that is a device or FIFO, ``--out`` equal to an input, input columns named like output columns,
and output errors found only after the whole computation.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from themeassist.batch.chunked import RunStateError, check_run_folder, run_chunked
from themeassist.cli import main
from themeassist.exceptions import OutputError
from themeassist.io.tables import FILE_MODE, atomic_write_text, check_output, write_table

COMMENTS = ["waiting list far too long for therapy", "staff were kind and listened to me",
            "parking at the clinic is awful", "sessions felt rushed and short", "the therapist really helped",
            "my manager never listens", "not enough rooms to see patients", "targets everywhere, no time"]  # fmt: skip


@pytest.fixture()
def comments(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "comments.csv"
    path.parent.mkdir()
    pd.DataFrame({"id": [f"c{i}" for i in range(len(COMMENTS))], "comment": COMMENTS}).to_csv(path, index=False)
    return path


def suggest(comments: Path, out: Path, *extra: str) -> int:
    return main(["suggest", str(comments), "--text-col", "comment", "--id-col", "id", "--codebook", "iapt",
                 "--model", "static", "--quiet", "--cache-dir", str(out.parent / "cache"), "--out", str(out),
                 *extra])  # fmt: skip


def square(chunk: list) -> pd.DataFrame:  # type: ignore[type-arg]
    return pd.DataFrame({"x": chunk, "y": [v * v for v in chunk]})


# ------------------------------------------------------------------------- run folders


def test_suggest_refuses_a_run_dir_it_did_not_make_and_touches_nothing(comments: Path, tmp_path: Path,
                                                                       capsys) -> None:  # type: ignore[no-untyped-def]
    victim = comments.parent  # holds the input CSV
    (victim / "notes.txt").write_text("my notes")
    before = sorted(p.name for p in victim.iterdir())
    out = tmp_path / "out.csv"
    rc = suggest(comments, out, "--run-dir", str(victim))
    err = capsys.readouterr().err
    assert rc == 2 and "was not made by themeassist" in err and "comments.csv" in err and "notes.txt" in err
    assert sorted(p.name for p in victim.iterdir()) == before
    assert (victim / "notes.txt").read_text() == "my notes" and not out.exists()


def test_run_dir_dot_is_refused_and_the_working_folder_kept(comments: Path, tmp_path: Path,
                                                            monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(comments.parent)
    rc = suggest(Path("comments.csv"), Path("out.csv"), "--run-dir", ".")
    assert rc == 2 and "was not made by themeassist" in capsys.readouterr().err
    assert sorted(os.listdir(".")) == ["comments.csv"]


def test_a_new_run_dir_is_removed_after_success_but_a_file_put_inside_survives(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_chunked([1, 2, 3], square, out_path=tmp_path / "o.csv", run_dir=run, chunk_size=2)
    assert not run.exists()
    # a run killed part way, then someone stores a file in its folder: the next run uses the folder,
    # removes its own files afterwards and leaves theirs (and so the folder)
    with pytest.raises(ZeroDivisionError):
        run_chunked([1, 2, 0], lambda c: square([1 // v for v in c]), out_path=tmp_path / "p.csv", run_dir=run,
                    chunk_size=2)  # fmt: skip
    (run / "keep.txt").write_text("theirs")
    run_chunked([1, 2, 3], square, out_path=tmp_path / "p.csv", run_dir=run, chunk_size=2)
    assert sorted(p.name for p in run.iterdir()) == ["keep.txt"]


def test_an_existing_empty_folder_is_used_but_not_removed(tmp_path: Path) -> None:
    run = tmp_path / "mine"
    run.mkdir()
    run_chunked([1, 2, 3], square, out_path=tmp_path / "o.csv", run_dir=run, chunk_size=2)
    assert run.is_dir() and list(run.iterdir()) == []


def test_a_foreign_manifest_json_does_not_make_a_folder_ours(tmp_path: Path) -> None:
    run = tmp_path / "other-tool"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"format": "some-other-tool"}))
    (run / "data.bin").write_bytes(b"x")
    with pytest.raises(RunStateError, match="not made by themeassist"):
        run_chunked([1], square, out_path=tmp_path / "o.csv", run_dir=run)
    with pytest.raises(RunStateError):
        check_run_folder(run)
    assert sorted(p.name for p in run.iterdir()) == ["data.bin", "manifest.json"]


def test_a_run_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(RunStateError, match="is not a folder"):
        run_chunked([1], square, out_path=tmp_path / "o.csv", run_dir=f)
    assert f.read_text() == "x"


def test_transductive_run_folder_also_only_removes_its_own_files(comments: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    assert suggest(comments, out, "--chunk-size", "3") == 0  # zero-shot: embeddings are chunked
    assert out.is_file() and not (tmp_path / ".o.csv.run").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "in", "o.csv"]


def test_a_manifest_with_wrong_types_is_recomputed_not_a_blocker(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_chunked([1, 2, 3], square, out_path=None, run_dir=run, chunk_size=2)
    for bad in ({"format": "themeassist-run", "version": "1", "job": "oops", "chunks": []},
                {"format": "themeassist-run", "version": "1", "job": {}, "chunks": {"0": "x"}},
                ["not", "a", "dict"]):  # fmt: skip
        (run / "manifest.json").write_text(json.dumps(bad))
        with pytest.warns(UserWarning, match="damaged|cannot be read|not a themeassist"):
            res = run_chunked([1, 2, 3], square, out_path=None, run_dir=run, chunk_size=2)
        assert res["y"].tolist() == [1, 4, 9]


# ------------------------------------------------------------------------- models build-static


def test_build_static_refuses_an_existing_folder_without_overwrite(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "precious"
    target.mkdir()
    (target / "thesis.docx").write_text("years of work")
    rc = main(["models", "build-static", "--out", str(target)])
    err = capsys.readouterr().err
    assert rc == 2 and "--overwrite" in err and "already exists" in err
    assert (target / "thesis.docx").read_text() == "years of work"
    # --overwrite replaces only a folder that holds a static model (this one does not)
    rc = main(["models", "build-static", "--out", str(target), "--overwrite"])
    assert rc == 2 and "not a static model" in capsys.readouterr().err
    assert (target / "thesis.docx").read_text() == "years of work"


# ------------------------------------------------------------------------- output targets


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_or_device_output_is_refused_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="not a regular file \\(a FIFO\\)"):
        write_table(pd.DataFrame({"a": [1]}), fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(OutputError, match="character device"):
        check_output("/dev/null")
    with pytest.raises(OutputError, match="is a folder"):
        atomic_write_text(tmp_path, "x")


def test_report_out_dev_null_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = tmp_path / "run"
    write_table(pd.DataFrame({"candidate_id": [0], "label": ["x"], "n_docs": [3]}), run / "candidate_codes.csv")
    assert main(["report", str(run), "--out", "/dev/null"]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlink_loop_output_is_a_clean_error(tmp_path: Path) -> None:
    loop = tmp_path / "loop.csv"
    os.symlink(loop, loop)
    with pytest.raises(OutputError, match="symlink loop"):
        check_output(loop)


def test_a_coders_work_is_not_erased_by_a_rerun(comments: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "suggestions.csv"
    assert suggest(comments, out) == 0
    assert suggest(comments, out) == 0  # nothing decided yet: a rerun replaces it
    sugg = pd.read_csv(out, dtype=str, keep_default_na=False)
    sugg.loc[2, "decision"] = "accept"  # the coder starts reviewing
    sugg.to_csv(out, index=False)
    reviewed = out.read_bytes()
    assert suggest(comments, out) == 2
    err = capsys.readouterr().err
    assert "1 of its rows have a filled 'decision' column (e.g. row 3)" in err and "--overwrite" in err
    assert out.read_bytes() == reviewed
    assert suggest(comments, out, "--overwrite") == 0  # the fix the message names
    assert pd.read_csv(out, dtype=str, keep_default_na=False)["decision"].eq("").all()
    # an audit the coder has started to fill
    audit = tmp_path / "audit.csv"
    args = ["audit", str(out), "--period-col", "doc_id", "--per-period", "1", "--quiet", "--out", str(audit)]
    assert main(args) == 0
    filled = pd.read_csv(audit, dtype=str, keep_default_na=False).assign(codes="none")
    filled.to_csv(audit, index=False)
    before = audit.read_bytes()
    assert main(args) == 2 and "filled 'codes' column" in capsys.readouterr().err and audit.read_bytes() == before
    assert main(args + ["--overwrite"]) == 0 and audit.read_bytes() != before


def test_out_equal_to_an_input_is_refused(comments: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    original = comments.read_bytes()
    assert suggest(comments, comments) == 2
    assert "is also an input" in capsys.readouterr().err and comments.read_bytes() == original
    decisions = tmp_path / "decisions.csv"
    pd.DataFrame({"doc_id": ["c0"], "text": [COMMENTS[0]], "suggested": ["Resources"], "decision": ["accept"],
                  "final_codes": [""]}).to_csv(decisions, index=False)  # fmt: skip
    edited = decisions.read_bytes()
    assert suggest(comments, decisions, "--decisions", str(decisions)) == 2
    assert decisions.read_bytes() == edited
    assert suggest(comments, tmp_path / "x.csv", "--examples", str(comments), "--examples-text-col", "comment",
                   "--out", str(comments)) == 2  # fmt: skip
    assert comments.read_bytes() == original


def test_output_errors_are_found_before_any_work_and_leave_nothing(comments: Path, tmp_path: Path,
                                                                   capsys) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "a-folder.csv"
    folder.mkdir()
    for out, msg in ((tmp_path / "out.txt", "unknown suffix '.txt'"), (folder, "is a folder")):
        assert suggest(comments, out) == 2
        assert msg in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder.csv", "in"]  # no cache, no run folder


def test_written_files_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        p = write_table(pd.DataFrame({"a": [1]}), tmp_path / "new" / "t.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == FILE_MODE
    assert stat.S_IMODE(p.parent.stat().st_mode) == 0o700


# ------------------------------------------------------------------------- input columns kept


def test_input_columns_named_like_output_columns_are_kept_as_name_input(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    df = pd.DataFrame({"id": ["a", "b", "c"], "comment": COMMENTS[:3], "scores": ["9", "8", "7"],
                       "evidence": ["e1", "e2", "e3"], "decision": ["keep", "drop", "keep"],
                       "final_codes": ["X", "Y", "Z"], "status": ["s1", "s2", "s3"]})  # fmt: skip
    df.to_csv(src, index=False)
    out = tmp_path / "o.csv"
    assert suggest(src, out) == 0
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    for col in ("scores", "evidence", "decision", "final_codes", "status"):
        assert got[f"{col}_input"].tolist() == df[col].tolist(), col
    assert (got["decision"] == "").all() and (got["final_codes"] == "").all()


def test_a_lone_foreign_manifest_json_is_refused_and_kept(tmp_path: Path) -> None:
    run = tmp_path / "notes"
    run.mkdir()
    (run / "manifest.json").write_text('{"project": "my own notes"}')
    with pytest.raises(RunStateError, match="not made by themeassist"):
        run_chunked([1], square, out_path=tmp_path / "o.csv", run_dir=run)
    assert (run / "manifest.json").read_text() == '{"project": "my own notes"}'


def test_leaving_the_lock_never_removes_another_process_lock(tmp_path: Path) -> None:
    from themeassist.batch._runfolder import Lock

    run = tmp_path / "run"
    run.mkdir()
    with Lock(run):
        (run / "lock").write_text("999999999\n")  # another process took the lock over meanwhile
    assert (run / "lock").read_text() == "999999999\n"
    (run / "lock").unlink()
    with Lock(run):
        assert (run / "lock").is_file()
    assert not (run / "lock").exists()


def test_a_lock_file_that_is_not_ours_is_refused_and_kept(tmp_path):
    from themeassist.batch._runfolder import Lock
    from themeassist.exceptions import ThemeassistError

    (tmp_path / "lock").write_text("my notes, not a process id\n")
    with pytest.raises(ThemeassistError, match="not a themeassist lock"):
        with Lock(tmp_path):
            pass
    assert (tmp_path / "lock").read_text() == "my notes, not a process id\n"
