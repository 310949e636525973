"""Tests for themeassist.models (building the static model) and the models/minilm-static built at setup."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from themeassist.embed import get_embedder, static_model_path
from themeassist.exceptions import ThemeassistError
from themeassist.models import NEUTRAL_TOKENIZER_NAME, build_static, corpus_vocabulary

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "minilm-static"
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "long", "wait", "##ing", "list", "##s", "staff",
         "kind", "help", "##ful", "the", "was", "very", "time", "nurse", "good", "bad", "appoint", "##ment"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT with a 23-entry WordPiece vocabulary, saved like a local model folder."""
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    BertTokenizerFast(vocab={w: i for i, w in enumerate(WORDS)}).save_pretrained(str(folder))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64)
    BertModel(cfg).save_pretrained(str(folder))
    return folder


def test_corpus_vocabulary_counts_lowercased_words() -> None:
    texts = ["Waiting lists", "waiting times", "The waiting room", "Times change, physio's great", "times"]
    assert corpus_vocabulary(texts, min_count=2) == ["waiting", "times"]
    assert corpus_vocabulary(texts, min_count=1, max_words=3) == ["waiting", "times", "lists"]
    assert "physio's" in corpus_vocabulary(texts, min_count=1)
    with pytest.raises(ValueError, match="'min_count' parameter of corpus_vocabulary"):
        corpus_vocabulary(texts, min_count=0)


def test_build_static_from_local_model(tiny_model: Path, tmp_path: Path) -> None:
    out = build_static(tmp_path / "static", source=tiny_model, pca_dims=8)
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "model.safetensors",
                                                     "modules.json", "tokenizer.json"]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["tokenizer_name"] == NEUTRAL_TOKENIZER_NAME
    assert cfg["model_type"] == "model2vec" and cfg["hidden_dim"] == 8
    # no machine path anywhere in the small files
    for name in ("config.json", "modules.json", "README.md"):
        assert str(tiny_model) not in (out / name).read_text()
        assert str(tmp_path) not in (out / name).read_text()
    assert "20 entries (0 whole words added" in (out / "README.md").read_text()
    emb = get_embedder(out, cache_dir=False, show_progress=False)
    X = emb.encode(["long waiting list", "kind staff", "long waiting list"])
    assert X.shape == (3, 8) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(X[0], X[2])
    # no temporary folder left behind
    assert [p.name for p in tmp_path.iterdir()] == ["static"]


def test_build_static_adds_corpus_words_and_is_deterministic(tiny_model: Path, tmp_path: Path) -> None:
    a = build_static(tmp_path / "a", source=tiny_model, pca_dims=8,
                     corpus_texts=["waiting", "Waiting room", "staff"], min_count=2)
    # "waiting" (wait + ##ing) occurs twice and is not a single token: added; "staff" is already a token
    tok = json.loads((a / "tokenizer.json").read_text())
    assert "waiting" in tok["model"]["vocab"]
    assert "21 entries (1 whole words added" in (a / "README.md").read_text()
    b = build_static(tmp_path / "b", source=tiny_model, pca_dims=8,
                     corpus_texts=["waiting", "Waiting room", "staff"], min_count=2)
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()


def test_build_static_errors(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'pca_dims' parameter of build_static"):
        build_static(tmp_path / "x", source=tiny_model, pca_dims=1)
    with pytest.raises(ThemeassistError, match="not a local sentence-transformers model folder"):
        build_static(tmp_path / "x", source=tmp_path)
    (tmp_path / "exists").mkdir()
    with pytest.raises(ThemeassistError, match="already exists"):
        build_static(tmp_path / "exists", source=tiny_model, pca_dims=8, overwrite=False)


def test_shipped_static_model() -> None:
    assert SHIPPED.is_dir(), "models/minilm-static is missing: run `themeassist models build-static`"
    size = sum(p.stat().st_size for p in SHIPPED.iterdir())
    assert size < 30 * 2**20
    cfg = json.loads((SHIPPED / "config.json").read_text())
    assert cfg["tokenizer_name"] == NEUTRAL_TOKENIZER_NAME and cfg["hidden_dim"] == 256
    assert static_model_path().resolve() == SHIPPED.resolve()
    emb = get_embedder("static", cache_dir=False, show_progress=False)
    X = emb.encode(["The waiting list was far too long.", "I waited months for an appointment.",
                    "The nurses were kind and caring."])
    assert X.shape == (3, 256) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-6)
    sims = X @ X.T
    assert sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[1, 2]
