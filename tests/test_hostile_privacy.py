"""Hostile trial, round 2: under ``--redact`` nothing identifying is written, anywhere.

Reproduces: e-mails and phone numbers left in the ``evidence`` column, in other free-text input
columns and in the run folder's chunks; ``export --redact --variable COL`` writing the raw column;
``discover``/``report``/``demo`` without ``--redact``; one respondent's words as a candidate-code
label; an unsalted sha256 of each comment in the embedding cache; NHS numbers with dots and
full-width digits missed.
"""

from __future__ import annotations

import hashlib
import hmac
import stat
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themeassist.cli import main
from themeassist.embed import CachedEmbedder
from themeassist.embed.cache import cache_key_path, cache_secret
from themeassist.redact import redact

SECRETS = ("jane.doe@nhs.net", "07700 900123", "943 476 5919", "janedoenhsnet", "07700", "900123")

BASE = ["The waiting list was far too long", "Staff were kind and they listened", "Parking at the clinic is awful",
        "Sessions felt rushed and too short", "My therapist really helped me", "Not enough rooms for sessions",
        "The waiting time for therapy was months", "Reception staff were rude to me",
        "Car park is always full", "I felt listened to by my therapist"]  # fmt: skip


def corpus_csv(tmp_path: Path, n: int = 40) -> Path:
    texts = [f"{BASE[i % len(BASE)]} ({i})" for i in range(n)]
    texts[3] = "Email me at jane.doe@nhs.net or ring 07700 900123, NHS no 943 476 5919"
    notes = ["" for _ in range(n)]
    notes[7] = "respondent asked to be called back on 07700 900123"
    df = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "comment": texts, "note": notes,
                       "site": ["Leeds" if i % 2 else "York" for i in range(n)]})  # fmt: skip
    path = tmp_path / "comments.csv"
    df.to_csv(path, index=False)
    return path


def examples_csv(tmp_path: Path) -> Path:
    rows = [("Waiting list far too long, email jane.doe@nhs.net", "Resources"),
            ("Call 07700 900123 about the waiting times", "Resources"),
            ("Not enough rooms for my sessions", "Resources"), ("Too many targets to meet", "The Failing Professional"),
            ("Targets everywhere, no time to think", "The Failing Professional"),
            ("Managers only care about numbers", "The Failing Professional")]  # fmt: skip
    path = tmp_path / "examples.csv"
    pd.DataFrame(rows, columns=["text", "codes"]).to_csv(path, index=False)
    return path


def leaks(root: Path) -> list[str]:
    """Files under root (parquet read as tables) that contain any secret."""
    found = []
    for p in root.rglob("*"):
        if not p.is_file():
            continue
        if p.suffix == ".parquet":
            text = pd.read_parquet(p).astype(str).to_csv()
        elif p.suffix in (".qdpx", ".zip"):
            with zipfile.ZipFile(p) as z:
                text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            text = p.read_bytes().decode("utf-8", "replace")
        found += [f"{p.relative_to(root)}: {s}" for s in SECRETS if s in text]
    return found


def test_suggest_redact_leaves_nothing_in_any_column_evidence_included(tmp_path: Path) -> None:
    src, ex = corpus_csv(tmp_path), examples_csv(tmp_path)
    out_dir = tmp_path / "out"
    rc = main(["suggest", str(src), "--text-col", "comment", "--id-col", "id", "--codebook", "iapt",
               "--examples", str(ex), "--model", "static", "--quiet", "--cache-dir", str(tmp_path / "cache"),
               "--redact", "--out", str(out_dir / "s.csv")])  # fmt: skip
    assert rc == 0
    got = pd.read_csv(out_dir / "s.csv", dtype=str, keep_default_na=False)
    assert (got["evidence"] != "").any()  # few-shot: evidence quotes the coded examples
    assert leaks(out_dir) == []
    assert "[PHONE]" in got.loc[got.doc_id == "r7", "note"].iloc[0]
    assert not (tmp_path / "cache").exists()  # no embedding cache at all under --redact


def test_redacted_run_folder_chunks_hold_no_identifier(tmp_path: Path, monkeypatch) -> None:
    """The final write fails: the run folder stays for a resume, and its chunks are redacted."""
    import themeassist.batch.chunked as chunked

    def fail(*a, **k):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    src, ex = corpus_csv(tmp_path), examples_csv(tmp_path)
    monkeypatch.setattr(chunked, "write_table", fail)
    out = tmp_path / "out" / "s.csv"
    rc = main(["suggest", str(src), "--text-col", "comment", "--id-col", "id", "--codebook", "iapt",
               "--examples", str(ex), "--model", "static", "--quiet", "--redact", "--chunk-size", "10",
               "--out", str(out)])  # fmt: skip
    assert rc == 2
    run = out.parent / ".s.csv.run"
    assert len(list(run.glob("chunk-*.parquet"))) == 4
    assert leaks(run) == []


def test_export_redact_covers_variable_columns(tmp_path: Path) -> None:
    src = corpus_csv(tmp_path, n=10)
    out = tmp_path / "p.qdpx"
    rc = main(["export", str(src), "--text-col", "comment", "--id-col", "id", "--codebook", "iapt",
               "--variable", "note", "--variable", "site", "--format", "qdpx", "--redact", "--out", str(out)])
    assert rc == 0
    with zipfile.ZipFile(out) as z:
        text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    assert not [s for s in SECRETS if s in text] and "Leeds" in text


@pytest.mark.slow
def test_discover_redact_writes_no_identifier_and_private_files(tmp_path: Path) -> None:
    src = corpus_csv(tmp_path, n=60)
    out = tmp_path / "disc"
    rc = main(["discover", str(src), "--text-col", "comment", "--id-col", "id", "--model", "static", "--quiet",
               "--redact", "--out", str(out)])  # fmt: skip
    assert rc == 0
    assert leaks(out) == []
    vocab = (out / "model" / "vocabulary.json").read_text()
    assert "janedoe" not in vocab and "07700" not in vocab
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()}
    assert set(modes.values()) == {0o600}, modes  # one policy: tables and the model folder alike
    # the report of that folder, redacted too
    report = tmp_path / "r.html"
    assert main(["report", str(out), "--out", str(report), "--redact"]) == 0
    assert not [s for s in SECRETS if s in report.read_text()]


def test_report_redact_removes_identifiers_from_quotes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame({"candidate_id": [0], "label": ["waiting"], "keywords": ["waiting|list"], "n_docs": [5],
                  "share": [1.0], "representative_doc_ids": ["r3"],
                  "representative_quotes": ["ring 07700 900123 or jane.doe@nhs.net"]}).to_csv(
        run / "candidate_codes.csv", index=False)  # fmt: skip
    pd.DataFrame({"doc_id": ["r3"], "text": ["ring 07700 900123 or jane.doe@nhs.net"], "period": ["2020"],
                  "status": ["ok"]}).to_csv(run / "corpus.csv", index=False)  # fmt: skip
    plain, red = tmp_path / "plain.html", tmp_path / "red.html"
    assert main(["report", str(run), "--out", str(plain)]) == 0
    assert "jane.doe@nhs.net" in plain.read_text()
    assert main(["report", str(run), "--out", str(red), "--redact"]) == 0
    html = red.read_text()
    assert "jane.doe@nhs.net" not in html and "900123" not in html and "[EMAIL]" in html


def test_cli_commands_have_redact() -> None:
    from themeassist.cli import build_parser

    parser = build_parser()
    for argv in (["discover", "x.csv", "--text-col", "t", "--out", "d", "--redact"],
                 ["report", "run", "--out", "r.html", "--redact"], ["demo", "--out", "d", "--redact"],
                 ["suggest", "x.csv", "--text-col", "t", "--codebook", "iapt", "--out", "o.csv", "--redact",
                  "--redact-cols", "note|site"]):  # fmt: skip
        assert parser.parse_args(argv).redact is True


# ------------------------------------------------------------------------- candidate-code labels


def test_a_keyword_from_fewer_than_three_comments_never_names_a_code() -> None:
    from themeassist.discovery import CandidateDiscovery
    from tests.test_hostile import HashEmbedder

    texts = [f"{BASE[i % len(BASE)]} {['alpha', 'beta', 'gamma'][i % 3]}" for i in range(60)]
    texts[0] = "janedoenhsnet waiting list was far too long"  # one respondent's own token
    texts[10] = "janedoenhsnet waiting time was long"  # two comments: still too few
    disc = CandidateDiscovery(embedder=HashEmbedder(), show_progress=False, min_topic_size=5).fit(texts)
    codes = disc.candidate_codes_
    assert not codes["label"].str.contains("janedoe").any()
    assert not codes["keywords"].str.contains("janedoe").any()


def test_contractions_are_not_keywords_and_a_dominant_short_answer_is_the_label() -> None:
    from themeassist.discovery import CandidateDiscovery
    from tests.test_hostile import HashEmbedder

    texts = (["Nothing."] * 14 + ["nothing!"] * 4 + ["I'm not able to guess, I don't remember"]
             + [f"I'm sure I don't know why the {w} isn't better" for w in ("parking", "food", "wait")] * 6
             + [f"{BASE[i % len(BASE)]} {i}" for i in range(30)])  # fmt: skip
    disc = CandidateDiscovery(embedder=HashEmbedder(), show_progress=False, min_topic_size=5).fit(texts)
    codes = disc.candidate_codes_
    words = {w for kw in codes["keywords"] for term in kw.split("|") for w in term.split()}
    assert not words & {"im", "ive", "dont", "isnt"}
    nothing = codes[codes["representative_quotes"].str.startswith("Nothing")]
    assert len(nothing) >= 1 and (nothing["label"] == '"nothing"').all()


# ------------------------------------------------------------------------- embedding cache


class Toy:
    model_id = "toy:privacy"

    def encode(self, texts):  # type: ignore[no-untyped-def]
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_cache_keys_are_keyed_with_a_secret_kept_outside_the_cache(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    comment = "I was treated badly by Dr Smith on ward 4"
    emb = CachedEmbedder(Toy(), tmp_path / "cache")
    emb.encode([comment])
    (shard,) = (tmp_path / "cache").rglob("*.safetensors")
    keys = load_file(str(shard))["keys"]
    plain = np.frombuffer(hashlib.sha256(comment.encode()).digest(), dtype=np.uint8)
    assert not (keys == plain).all(axis=1).any()  # a guessed comment cannot be confirmed from the cache
    keyed = np.frombuffer(hmac.new(cache_secret(), comment.encode(), hashlib.sha256).digest(), dtype=np.uint8)
    assert (keys == keyed).all(axis=1).any()
    key = cache_key_path()
    assert tmp_path / "cache" not in key.parents and stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_cache_under_another_key_is_not_read(tmp_path: Path, monkeypatch) -> None:
    calls = []

    class Counting(Toy):
        def encode(self, texts):  # type: ignore[no-untyped-def]
            calls.append(list(texts))
            return super().encode(texts)

    CachedEmbedder(Counting(), tmp_path / "cache").encode(["a comment"])
    monkeypatch.setenv("THEMEASSIST_CACHE_KEY", str(tmp_path / "other-key"))
    CachedEmbedder(Counting(), tmp_path / "cache").encode(["a comment"])
    assert calls == [["a comment"], ["a comment"]]


def test_cache_clear_removes_only_cache_files(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    CachedEmbedder(Toy(), cache).encode(["x", "y"])
    (cache / "README.txt").write_text("not ours")
    old_key = cache_key_path().read_text()
    assert main(["cache", "clear", "--cache-dir", str(cache)]) == 0
    assert "removed 1 cached embedding file" in capsys.readouterr().out
    assert sorted(p.name for p in cache.rglob("*")) == ["README.txt"]
    assert cache_key_path().read_text() == old_key


def test_cache_folder_faults_are_clean_errors(tmp_path: Path) -> None:
    from themeassist.exceptions import CacheError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CacheError, match="is a file, not a folder"):
        CachedEmbedder(Toy(), blocker).encode(["a"])


# ------------------------------------------------------------------------- missed forms


def test_nhs_number_with_dots_and_full_width_digits_are_redacted() -> None:
    texts, counts = redact(["NHS no 943.476.5919.", "ring \uff10\uff17\uff17\uff10\uff10 \uff19\uff10\uff10\uff11\uff12\uff13",
                            "NHS \uff19\uff14\uff13 \uff14\uff17\uff16 \uff15\uff19\uff11\uff19", "version 1.2.3 is fine"])
    assert texts.tolist() == ["NHS no [NHS_NUMBER].", "ring [PHONE]", "NHS [NHS_NUMBER]", "version 1.2.3 is fine"]
    assert counts.set_index("kind")["n"].to_dict()["nhs_number"] == 2


def test_redact_cols_names_the_metadata_columns_to_redact(tmp_path: Path) -> None:
    src = corpus_csv(tmp_path, n=10)
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df.loc[2, "site"] = "ring 07700 900123"
    df.to_csv(src, index=False)
    out = tmp_path / "s.csv"
    assert main(["suggest", str(src), "--text-col", "comment", "--id-col", "id", "--codebook", "iapt", "--model",
                 "static", "--quiet", "--redact", "--redact-cols", "note", "--out", str(out)]) == 0  # fmt: skip
    got = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("doc_id")
    assert "[PHONE]" in got.loc["r7", "note"] and "[EMAIL]" in got.loc["r3", "text"]
    assert got.loc["r2", "site"] == "ring 07700 900123"  # not named: left as it was
    assert main(["suggest", str(src), "--text-col", "comment", "--codebook", "iapt", "--model", "static",
                 "--redact", "--redact-cols", "nope", "--out", str(tmp_path / "t.csv")]) == 2  # fmt: skip
