"""Resumable chunked runs: resume after a crash, checksums, mismatches, locks, atomic output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themeassist.exceptions import CacheError, ThemeassistError
from themeassist.runs import (
    RunStateError,
    fitted_fingerprint,
    input_fingerprint,
    resumable_suggest,
    run_chunked,
)


class Boom(Exception):
    pass


class Recorder:
    """func for run_chunked: text lengths; records the chunks it saw; can crash at a chunk."""

    def __init__(self, crash_at: int | None = None) -> None:
        self.seen: list[list[str]] = []
        self.crash_at = crash_at

    def __call__(self, chunk: pd.DataFrame) -> pd.DataFrame:
        if self.crash_at is not None and len(self.seen) == self.crash_at:
            raise Boom(f"killed at chunk {self.crash_at}")
        self.seen.append(chunk["doc_id"].tolist())
        assert chunk.index.tolist() == list(range(len(chunk)))
        return pd.DataFrame({"doc_id": chunk["doc_id"], "n": chunk["text"].str.len(), "score": chunk["text"].str.len() / 7})


def corpus(n: int = 10) -> pd.DataFrame:
    return pd.DataFrame({"doc_id": [f"d{i}" for i in range(n)], "row": range(n), "text": ["x" * (i + 1) for i in range(n)],
                         "status": "ok"})  # fmt: skip


def test_uninterrupted_run_writes_the_output_atomically_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "res.csv"
    rec = Recorder()
    res = run_chunked(corpus(10), rec, out_path=out, chunk_size=4, params={"a": 1})
    assert rec.seen == [["d0", "d1", "d2", "d3"], ["d4", "d5", "d6", "d7"], ["d8", "d9"]]
    assert res["n"].tolist() == list(range(1, 11))
    assert pd.read_csv(out)["n"].tolist() == list(range(1, 11))
    assert res.attrs["run"]["n_chunks"] == 3 and res.attrs["run"]["computed"] == 3
    assert not (tmp_path / ".res.csv.run").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res.csv"]  # no temporary files left


def test_crash_then_resume_computes_only_missing_chunks_and_equals_uninterrupted(tmp_path: Path) -> None:
    ref = run_chunked(corpus(10), Recorder(), out_path=tmp_path / "ref.parquet", chunk_size=3)
    out = tmp_path / "res.parquet"
    with pytest.raises(Boom):
        run_chunked(corpus(10), Recorder(crash_at=2), out_path=out, chunk_size=3)
    assert not out.exists()  # no half-written output under the final name
    run = tmp_path / ".res.parquet.run"
    manifest = json.loads((run / "manifest.json").read_text())
    assert sorted(manifest["chunks"]) == ["0", "1"] and manifest["completed"] is False
    assert manifest["chunks"]["1"]["rows"] == [3, 6]
    assert not (run / "lock").exists()  # released on the exception
    rec = Recorder()
    res = run_chunked(corpus(10), rec, out_path=out, chunk_size=3)
    assert rec.seen == [["d6", "d7", "d8"], ["d9"]]
    assert res.attrs["run"]["reused"] == 2 and res.attrs["run"]["computed"] == 2
    pd.testing.assert_frame_equal(res, ref)
    assert out.read_bytes() == (tmp_path / "ref.parquet").read_bytes()


def test_corrupted_or_missing_chunk_is_recomputed_not_loaded(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_chunked(corpus(6), Recorder(), out_path=None, run_dir=run, chunk_size=2)
    data = bytearray((run / "chunk-000001.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (run / "chunk-000001.parquet").write_bytes(bytes(data))
    (run / "chunk-000002.parquet").unlink()
    rec = Recorder()
    with pytest.warns(UserWarning, match="fails its checksum"):
        res = run_chunked(corpus(6), rec, out_path=None, run_dir=run, chunk_size=2)
    assert rec.seen == [["d2", "d3"], ["d4", "d5"]]
    assert res["n"].tolist() == [1, 2, 3, 4, 5, 6]


def test_corrupted_manifest_starts_afresh(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_chunked(corpus(4), Recorder(), out_path=None, run_dir=run, chunk_size=2)
    (run / "manifest.json").write_text("{not json")
    rec = Recorder()
    with pytest.warns(UserWarning, match="cannot be read"):
        run_chunked(corpus(4), rec, out_path=None, run_dir=run, chunk_size=2)
    assert len(rec.seen) == 2


@pytest.mark.parametrize("change, what", [
    (dict(params={"a": 2}), "parameters"),
    (dict(items=corpus(6).assign(text=lambda d: d["text"].str.upper())), "input"),
    (dict(chunk_size=3), "chunk size"),
])  # fmt: skip
def test_other_job_in_the_run_folder_restarts_or_raises(tmp_path: Path, change: dict, what: str) -> None:
    run = tmp_path / "run"
    base = dict(items=corpus(6), params={"a": 1}, chunk_size=2)
    run_chunked(base["items"], Recorder(), out_path=None, run_dir=run, chunk_size=2, params={"a": 1})
    kw = {**base, **change}
    with pytest.raises(RunStateError, match=f"holds another job \\(different {what}\\)"):
        run_chunked(kw["items"], Recorder(), out_path=None, run_dir=run, chunk_size=kw["chunk_size"],
                    params=kw["params"], on_mismatch="error")  # fmt: skip
    assert len(list(run.glob("chunk-*.parquet"))) == 3  # untouched
    rec = Recorder()
    with pytest.warns(UserWarning, match=f"different {what}.*starts afresh"):
        run_chunked(kw["items"], rec, out_path=None, run_dir=run, chunk_size=kw["chunk_size"], params=kw["params"])
    assert sum(map(len, rec.seen)) == 6  # everything recomputed
    assert issubclass(RunStateError, CacheError) and issubclass(RunStateError, ThemeassistError)


def test_live_lock_is_refused_and_a_dead_one_is_taken_over(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (run / "lock").write_text(f"{child.pid}\n")
        with pytest.raises(RunStateError, match=f"in use by process {child.pid}"):
            run_chunked(corpus(2), Recorder(), out_path=None, run_dir=run, chunk_size=2)
    finally:
        child.kill()
        child.wait()
    res = run_chunked(corpus(2), Recorder(), out_path=None, run_dir=run, chunk_size=2)  # pid now dead
    assert len(res) == 2 and not (run / "lock").exists()


def test_keep_run_dir_reassembles_without_recomputing_and_finalize_applies(tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    kw = dict(out_path=out, chunk_size=4, keep_run_dir=True, finalize=lambda d: d.assign(decision=""))
    first = run_chunked(corpus(5), Recorder(), **kw)
    manifest = json.loads((tmp_path / ".o.csv.run" / "manifest.json").read_text())
    assert manifest["completed"] is True and len(manifest["output_sha256"]) == 64
    rec = Recorder()
    second = run_chunked(corpus(5), rec, **kw)
    assert rec.seen == [] and second.attrs["run"]["reused"] == 2
    pd.testing.assert_frame_equal(first, second)
    assert first.columns.tolist() == ["doc_id", "n", "score", "decision"]


def test_a_failed_final_write_leaves_the_previous_output_intact(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "o.csv"
    out.write_text("previous complete file\n")

    def explode(self, *a, **k):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", explode)
    with pytest.raises(OSError, match="disk full"):
        run_chunked(corpus(3), Recorder(), out_path=out, chunk_size=2)
    assert out.read_text() == "previous complete file\n"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".o.csv.run")) == ["o.csv"]


def test_sequence_input_and_bad_arguments(tmp_path: Path) -> None:
    res = run_chunked(["a", "bb", "ccc"], lambda c: pd.DataFrame({"t": c}), out_path=None, run_dir=tmp_path / "r",
                      chunk_size=2)  # fmt: skip
    assert res["t"].tolist() == ["a", "bb", "ccc"]
    with pytest.raises(ValueError, match="'chunk_size' parameter of run_chunked must be an int >= 1"):
        run_chunked(["a"], len, out_path=None, run_dir=tmp_path / "r", chunk_size=0)
    with pytest.raises(ValueError, match="'on_mismatch'"):
        run_chunked(["a"], len, out_path=None, run_dir=tmp_path / "r", on_mismatch="ignore")
    with pytest.raises(ValueError, match="pass out_path"):
        run_chunked(["a"], len, out_path=None)
    with pytest.raises(ValueError, match=r"params\['model'\] must hold only JSON values.*got a object"):
        run_chunked(["a"], len, out_path=None, run_dir=tmp_path / "r", params={"model": object()})
    with pytest.raises(ThemeassistError, match=r"func returned a int for chunk 0 \(rows 0-0\)"):
        run_chunked(["a"], len, out_path=None, run_dir=tmp_path / "r2")
    with pytest.raises(ThemeassistError, match="chunk 0 cannot be stored as parquet"):
        run_chunked(["a"], lambda c: pd.DataFrame({"x": [object()]}), out_path=None, run_dir=tmp_path / "r3")


def test_fingerprints_are_stable_and_content_based() -> None:
    df = corpus(3).assign(date=pd.to_datetime(["2020-01-01", None, "2021-05-02"]), period=["2020", None, "2021"])
    assert input_fingerprint(df) == input_fingerprint(df.copy())
    assert input_fingerprint(df) != input_fingerprint(df.assign(period=["2020", None, "2022"]))
    assert input_fingerprint(df) != input_fingerprint(df.rename(columns={"period": "wave"}))

    class Toy:
        def get_params(self, deep=False):  # type: ignore[no-untyped-def]
            return {"k": 3}

    a, b = Toy(), Toy()
    a.vectors_, b.vectors_ = np.ones((2, 2)), np.ones((2, 2))
    a._cache, b._cache = object(), object()  # private state is not part of the identity
    assert fitted_fingerprint(a) == fitted_fingerprint(b)
    b.vectors_[0, 0] = 2
    assert fitted_fingerprint(a) != fitted_fingerprint(b)
    # stable across processes (no memory addresses): same digest in a fresh interpreter
    code = ("import pandas as pd; from themeassist.runs import input_fingerprint; "
            "print(input_fingerprint(pd.DataFrame({'t': ['a', None, 1.5]})))")  # fmt: skip
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == input_fingerprint(pd.DataFrame({"t": ["a", None, 1.5]}))


class RowMapper:
    """A fitted per-row mapper stand-in (the suggest contract: one row per input row)."""

    def __init__(self, drop_last: bool = False) -> None:
        self.drop_last = drop_last
        self.themes_ = ["a", "b"]

    def get_params(self, deep=False):  # type: ignore[no-untyped-def]
        return {"drop_last": self.drop_last}

    def suggest(self, corpus: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame({"doc_id": corpus["doc_id"], "suggested": np.where(corpus["text"].str.len() % 2, "a", "b")})
        return out.iloc[:-1] if self.drop_last else out


def test_resumable_suggest_checks_one_row_per_input_row(tmp_path: Path) -> None:
    res = resumable_suggest(RowMapper(), corpus(5), tmp_path / "s.csv", chunk_size=2,
                            finalize=lambda s: s.assign(final_codes=""))  # fmt: skip
    assert res["suggested"].tolist() == ["a", "b", "a", "b", "a"]
    assert pd.read_csv(tmp_path / "s.csv", keep_default_na=False).columns.tolist() == ["doc_id", "suggested", "final_codes"]
    with pytest.raises(ThemeassistError, match=r"did not return one row per input row for rows 0-1 .*missing doc_ids \['d1'\]"):
        resumable_suggest(RowMapper(drop_last=True), corpus(5), tmp_path / "t.csv", chunk_size=2)
    with pytest.raises(ValueError, match="corpus lacks columns"):
        resumable_suggest(RowMapper(), pd.DataFrame({"x": [1]}), tmp_path / "u.csv")
