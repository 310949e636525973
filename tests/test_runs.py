"""Resumable chunked runs: resume after a crash, checksums, mismatches, locks, atomic output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themeassist.exceptions import CacheError, ThemeassistError
from themeassist.batch.chunked import (
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


def test_manifest_is_the_one_run_folder_format_listing_each_chunk(tmp_path: Path) -> None:
    from themeassist.io.run_folder import file_info, read_manifest as read_run_folder

    run = tmp_path / "run"
    run_chunked(corpus(5), Recorder(), out_path=None, run_dir=run, chunk_size=2, params={"a": 1})
    manifest = read_run_folder(run, kind="batch")  # every chunk's sha256 and size verified
    assert manifest["format"] == "themeassist-run-folder" and manifest["params"] == {"a": 1}
    assert sorted(manifest["files"]) == [f"chunk-00000{k}.parquet" for k in range(3)]
    assert manifest["files"]["chunk-000002.parquet"] == file_info(run / "chunk-000002.parquet")
    assert manifest["chunks"]["2"] == {"rows": [4, 5], "n_out": 1} and manifest["job"]["chunk_size"] == 2


def test_a_manifest_of_the_older_batch_format_is_recomputed(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_chunked(corpus(4), Recorder(), out_path=None, run_dir=run, chunk_size=2)
    old = {"format": "themeassist-run", "version": "1", "job": {"params": {}, "chunk_size": 2}, "n_chunks": 2,
           "chunks": {"0": {"sha256": "0" * 64, "rows": [0, 2]}}}  # fmt: skip
    (run / "manifest.json").write_text(json.dumps(old))
    rec = Recorder()
    with pytest.warns(UserWarning, match="older format 'themeassist-run'.*starting the job afresh"):
        res = run_chunked(corpus(4), rec, out_path=None, run_dir=run, chunk_size=2, on_mismatch="error")
    assert len(rec.seen) == 2 and res["n"].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize("kind", ["discovery", "pipeline"])
def test_a_themeassist_folder_of_another_kind_is_refused_and_untouched(tmp_path: Path, kind: str) -> None:
    from themeassist.io.run_folder import save_table, write_manifest as write_run_folder

    folder = tmp_path / "saved"
    save_table(folder, "chunk-000000.parquet", pd.DataFrame({"x": [1]}))  # even with names a run writes
    write_run_folder(folder, kind)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(RunStateError, match=f"holds a themeassist '{kind}' folder, not a batch run"):
        run_chunked(corpus(2), Recorder(), out_path=tmp_path / "o.csv", run_dir=folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


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
    with pytest.raises(ThemeassistError, match=r"func returned a int for chunk 1 \(rows 1-1\)"):
        run_chunked(["a"], len, out_path=None, run_dir=tmp_path / "r2")
    with pytest.raises(ThemeassistError, match="chunk 1 cannot be stored as parquet"):
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
    code = ("import pandas as pd; from themeassist.batch.chunked import input_fingerprint; "
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
    with pytest.raises(ThemeassistError, match=r"did not return one row per input row for rows 1-2 .*missing doc_ids \['d1'\]"):
        resumable_suggest(RowMapper(drop_last=True), corpus(5), tmp_path / "t.csv", chunk_size=2)
    with pytest.raises(ValueError, match="corpus lacks columns"):
        resumable_suggest(RowMapper(), pd.DataFrame({"x": [1]}), tmp_path / "u.csv")


# ----------------------------------------------------------------------------- kill and resume

_DRIVER = '''
import sys, warnings
warnings.simplefilter("ignore")
from themeassist.corpus import load_corpus
from themeassist.embed import get_embedder
from themeassist.mapping import ThemeMapper
from themeassist.batch.chunked import resumable_suggest

inp, out, cache, model, chunk = sys.argv[1:6]
corpus = load_corpus(inp, text_col="comment", id_col="id", period_col="year")
mapper = ThemeMapper(embedder=get_embedder(model, cache_dir=cache, show_progress=False)).fit("iapt")
review = lambda s: s.merge(corpus[["doc_id", "text"]], on="doc_id", how="left", validate="one_to_one").assign(
    decision="", final_codes="")
res = resumable_suggest(mapper, corpus, out, chunk_size=int(chunk), finalize=review, log=print)
'''


def _cli_resumes() -> bool:
    """True once `themeassist suggest` has --chunk-size (it then runs through resumable_suggest)."""
    from themeassist.cli import build_parser

    sub = next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices and "suggest" in a.choices)
    return any("--chunk-size" in act.option_strings for act in sub.choices["suggest"]._actions)


def _static_or_tiny_model(tmp_path: Path) -> str:
    """The static model in models/minilm-static, else a tiny deterministic model2vec model built
    here from the packaged MiniLM tokenizer (random vectors, seed 0): same code path, no download."""
    from themeassist.embed import static_model_path

    if static_model_path().is_dir():
        return "static"
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    from themeassist.embed import default_model_path

    tok = Tokenizer.from_file(str(default_model_path() / "tokenizer.json"))
    vectors = np.random.default_rng(0).standard_normal((tok.get_vocab_size(), 32)).astype(np.float32)
    folder = tmp_path / "tiny-static"
    StaticModel(vectors, tok, config={"model_type": "model2vec", "normalize": True}, normalize=True).save_pretrained(str(folder))
    return str(folder)


def _big_corpus(path: Path, n: int = 20_000) -> None:
    rng = np.random.default_rng(7)
    subjects = ["the waiting list", "my therapist", "the sessions", "the online course", "the receptionist",
                "parking", "the group", "the phone assessment", "my caseload", "supervision"]  # fmt: skip
    verbs = ["was", "felt", "seemed", "has been", "is"]
    adjs = ["too long", "really helpful", "rushed", "kind and patient", "confusing", "far too short",
            "supportive", "hard to reach", "excellent", "stressful"]  # fmt: skip
    extra = ["", " because of staff shortages", " and I felt listened to", " so I gave up", " thanks",
             " 😀", " — honestly", " (again)"]  # fmt: skip
    texts: list[object] = [f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(adjs)}{rng.choice(extra)}"
                           for _ in range(n)]  # fmt: skip
    for i in rng.choice(n, 400, replace=False):  # non-answers, blanks, numbers: every row still comes out
        texts[i] = rng.choice(["", "n/a", "5", "none", "   "])
    pd.DataFrame({"id": [f"C{i:05d}" for i in range(n)], "comment": texts,
                  "year": rng.choice([2021, 2022, 2023], n)}).to_csv(path, index=False)  # fmt: skip


@pytest.mark.slow
def test_kill_minus_9_then_rerun_gives_the_uninterrupted_output(tmp_path: Path) -> None:
    import signal
    import time

    model = _static_or_tiny_model(tmp_path)
    inp = tmp_path / "comments.csv"
    _big_corpus(inp)
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

    def cmd(out: Path, cache: Path) -> list[str]:
        if _cli_resumes():  # the real command line
            return [sys.executable, "-m", "themeassist.cli", "suggest", str(inp), "--codebook", "iapt", "--text-col",
                    "comment", "--id-col", "id", "--out", str(out), "--model", model, "--cache-dir", str(cache),
                    "--chunk-size", "1000", "--quiet"]  # fmt: skip
        return [sys.executable, str(driver), str(inp), str(out), str(cache), model, "1000"]

    t0 = time.perf_counter()
    ref = subprocess.run(cmd(tmp_path / "ref.csv", tmp_path / "cache-ref"), env=env, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-3000:]
    t_ref = time.perf_counter() - t0

    out, run = tmp_path / "out.csv", tmp_path / ".out.csv.run"
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd(out, tmp_path / "cache"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while proc.poll() is None and len(list(run.rglob("chunk-*.parquet"))) < 6 and time.perf_counter() - t0 < 120:
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed: " + proc.stderr.read().decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    t_killed = time.perf_counter() - t0
    # the manifest of the chunked step (a transductive run also writes one for the whole folder)
    manifest = next(m for m in (json.loads(p.read_text()) for p in run.rglob("manifest.json")) if "chunks" in m)
    done, n_chunks = manifest["chunks"], manifest["n_chunks"]
    assert proc.returncode == -signal.SIGKILL and 2 <= len(done) < n_chunks
    assert not out.exists()  # no half-written output under the final name

    t0 = time.perf_counter()
    again = subprocess.run(cmd(out, tmp_path / "cache"), env=env, capture_output=True, text=True)
    t_resume = time.perf_counter() - t0
    assert again.returncode == 0, again.stderr[-3000:]
    found = re.search(r"resumed: (\d+) of (\d+) chunks", again.stdout + again.stderr)
    reused = int(found.group(1)) if found else -1
    assert found or _cli_resumes(), again.stdout[-2000:]
    assert reused == -1 or (reused == len(done) and int(found.group(2)) == n_chunks)  # every chunk done is reused
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()
    table = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert len(table) == 20_000 and table["doc_id"].tolist() == [f"C{i:05d}" for i in range(20_000)]
    assert not run.exists()
    print(f"\nkill/resume on 20,000 comments ({model}): uninterrupted {t_ref:.1f}s, killed after {t_killed:.1f}s "
          f"with {len(done)}/{n_chunks} chunks done, resumed run {t_resume:.1f}s reusing {reused} chunks "
          f"({'CLI' if _cli_resumes() else 'driver script'})")


# ----------------------------------------------------------------------------- chunked == whole


class WordHash:
    model_id = "test:wordhash:v1"

    def encode(self, texts):  # type: ignore[no-untyped-def]
        out = np.zeros((len(texts), 48), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in str(t).lower().split():
                out[i, sum(w.encode()) % 47] += 1
            out[i, 47] = 0.1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _mapped_corpus(n: int = 260) -> pd.DataFrame:
    from themeassist.corpus import load_corpus

    words = ["waiting", "list", "staff", "kind", "targets", "stress", "supervision", "parking", "team", "support"]
    rng = np.random.default_rng(3)
    return load_corpus(pd.DataFrame({"c": [" ".join(rng.choice(words, 5)) for _ in range(n)]}), text_col="c")


@pytest.mark.parametrize("transductive", [
    False,
    True,  # scores standardised over all comments: only the embedding is chunked
])  # fmt: skip
def test_chunked_suggest_equals_one_call_on_the_whole_corpus(tmp_path: Path, transductive: bool) -> None:
    from themeassist.mapping import ThemeMapper

    corpus = _mapped_corpus()
    mapper = ThemeMapper(embedder=WordHash(), transductive=transductive).fit("iapt")
    whole = mapper.suggest(corpus)
    chunked = resumable_suggest(mapper, corpus, tmp_path / "s.parquet", chunk_size=100)
    pd.testing.assert_frame_equal(chunked, pd.read_parquet(tmp_path / "s.parquet"))
    assert chunked.attrs["run"]["n_chunks"] == 3
    assert chunked.attrs["run"].get("mode") == ("embed-chunks" if transductive else None)
    assert (chunked["suggested"] == whole["suggested"]).all()
    np.testing.assert_allclose(chunked["top_score"], whole["top_score"])


@pytest.mark.slow
def test_resumable_transform_of_a_fitted_discovery_equals_one_call(tmp_path: Path) -> None:
    from themeassist.discovery import CandidateDiscovery
    from themeassist.batch.chunked import resumable_transform

    corpus = _mapped_corpus(120)
    disc = CandidateDiscovery(embedder=WordHash(), show_progress=False, min_topic_size=5).fit(corpus)
    res = resumable_transform(disc, corpus, tmp_path / "a.parquet", chunk_size=50)
    assert res.attrs["run"]["n_chunks"] == 3
    pd.testing.assert_frame_equal(res, disc.transform(corpus))
