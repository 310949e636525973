"""Embeddings: the real packaged model, the on-disk cache, integrity checks."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from themeassist.embed import (
    DEFAULT_MODEL_SHA256,
    CachedEmbedder,
    EmbeddingCache,
    SentenceTransformerEmbedder,
    default_model_path,
    get_embedder,
)
from themeassist.embed.cache import text_keys
from themeassist.exceptions import ThemeassistError


class CountingEmbedder:
    """A deterministic toy backend that records what it was asked to embed."""

    model_id = "toy:v1"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.calls.append(list(texts))
        out = np.array([[len(t), t.count("a") + 1.0, 1.0] for t in texts], dtype=np.float32).reshape(-1, 3)
        return out / np.linalg.norm(out, axis=1, keepdims=True).clip(1e-9)


def test_default_model_embeds_offline_and_similar_texts_are_close(tmp_path: Path) -> None:
    emb = get_embedder(cache_dir=tmp_path, show_progress=False)
    X = emb.encode(["I have too many patients on my caseload", "My caseload is far too big", "I enjoy gardening"])
    assert X.shape == (3, 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    sim = X @ X.T
    assert sim[0, 1] > sim[0, 2] + 0.2
    assert emb.model_id.startswith("st:all-MiniLM-L6-v2:")


def test_second_run_reads_the_cache_and_gives_identical_rows(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    emb = CachedEmbedder(inner, tmp_path, chunk_size=2)
    first = emb.encode(["aa", "b", "aa", "ccc"])
    assert inner.calls == [["aa", "b"], ["ccc"]]  # duplicates embedded once, chunks of 2
    assert (emb.last_hits_, emb.last_misses_) == (0, 4)
    second = emb.encode(["ccc", "aa", "new"])
    assert inner.calls[-1] == ["new"]
    assert (emb.last_hits_, emb.last_misses_) == (2, 1)
    np.testing.assert_array_equal(second[:2], first[[3, 0]])
    third = emb.encode(["aa", "aa", "b"])  # repeated texts are all hits, nothing re-embedded
    assert (emb.last_hits_, emb.last_misses_) == (3, 0) and inner.calls[-1] == ["new"]
    np.testing.assert_array_equal(third[1], first[0])


def test_cache_is_keyed_by_model_identity(tmp_path: Path) -> None:
    a, b = CountingEmbedder(), CountingEmbedder()
    b.model_id = "toy:v2"
    CachedEmbedder(a, tmp_path).encode(["x"])
    CachedEmbedder(b, tmp_path).encode(["x"])
    assert b.calls == [["x"]]  # another model never reads the first model's vectors


def test_corrupted_shard_is_detected_and_rebuilt(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    emb = CachedEmbedder(inner, tmp_path)
    good = emb.encode(["alpha", "beta"])
    (shard,) = list(emb.cache.folder.glob("*.safetensors"))
    data = bytearray(shard.read_bytes())
    data[-3] ^= 0xFF  # flip bits inside the embeddings tensor
    shard.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="fails its checksum"):
        again = emb.encode(["alpha", "beta"])
    assert len(inner.calls) == 2
    np.testing.assert_allclose(again, good)


def test_foreign_file_in_cache_is_not_loaded(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    emb = CachedEmbedder(inner, tmp_path)
    emb.cache.folder.mkdir(parents=True)
    (emb.cache.folder / "evil.safetensors").write_bytes(b"\x00not a safetensors file")
    with pytest.warns(UserWarning, match="cannot be read"):
        emb.encode(["x"])
    assert not (emb.cache.folder / "evil.safetensors").exists()
    # a valid shard written for another model id is refused too
    other = EmbeddingCache(tmp_path, "toy:other")
    path = other.store(text_keys(["y"]), np.ones((1, 3), dtype=np.float32))
    shutil.move(path, emb.cache.folder / path.name)
    with pytest.warns(UserWarning, match="belongs to model"):
        emb.encode(["y"])


def test_tampered_default_weights_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(default_model_path(), folder)
    with open(folder / "model.safetensors", "r+b") as fh:
        fh.seek(-10, 2)
        fh.write(b"0123456789")
    emb = SentenceTransformerEmbedder(folder, expected_sha256=DEFAULT_MODEL_SHA256, show_progress=False)
    with pytest.raises(ThemeassistError, match="do not match the pinned hash"):
        emb.encode(["x"])


def test_unknown_model_name_is_a_clear_error() -> None:
    with pytest.raises(ThemeassistError, match="neither a known name"):
        get_embedder("sentence-transformers/all-mpnet-base-v2")


def test_empty_input_gives_empty_matrix(tmp_path: Path) -> None:
    emb = CachedEmbedder(CountingEmbedder(), tmp_path)
    assert emb.encode([]).shape == (0, 3)


def test_static_model_is_found_outside_a_source_checkout(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An installed package (no checkout around it) keeps the static model in the user data
    folder; the error for a missing one names the command that builds it exactly there."""
    import platformdirs

    from themeassist import embed
    from themeassist.exceptions import ThemeassistError

    monkeypatch.delenv("THEMEASSIST_STATIC_MODEL", raising=False)
    built = embed._checkout_root() / "models" / "minilm-static"  # make built it in this checkout
    assert embed.static_model_path() == built
    monkeypatch.setattr(embed, "_checkout_root", lambda: None)
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / "data" / app))
    home = tmp_path / "data" / "themeassist" / "models" / "minilm-static"
    assert embed.static_model_path() == home
    with pytest.raises(ThemeassistError, match=f"themeassist models build-static --out {home}"):
        embed.get_embedder("static", cache_dir=False).encode(["a"])
    home.parent.mkdir(parents=True)
    shutil.copytree(built, home)  # as `themeassist models build-static` would write it there
    assert embed.get_embedder("static", cache_dir=False).encode(["long waits"]).shape[0] == 1
    monkeypatch.setenv("THEMEASSIST_STATIC_MODEL", str(tmp_path / "elsewhere"))
    assert embed.static_model_path() == tmp_path / "elsewhere"


def test_loading_the_static_model_logs_nothing_in_a_bare_process() -> None:
    """A process with no logging set up (a Dask worker) loads the static model without the hub's
    "Repo card metadata block was not found" line (it printed under `suggest --engine dask --quiet`)."""
    import subprocess
    import sys

    code = ("from themeassist.embed import get_embedder; "
            "print(get_embedder('static', cache_dir=False, show_progress=False).encode(['long waits']).shape)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip().startswith("(1, ") and done.stderr.strip() == ""
