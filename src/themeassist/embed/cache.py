"""On-disk embedding cache keyed by model identity and each text's keyed hash.

Layout: ``<cache_dir>/<model key>/<shard>.safetensors``. A shard holds two tensors, ``keys``
(uint8, n x 32: HMAC-SHA256 of each text under a secret key) and ``embeddings`` (float32, n x
dim), and metadata with the format version, the model id, the key's id and a sha256 of both
tensors.

The key is 32 random bytes kept *outside* the cache folder, in the user's config folder
(``$THEMEASSIST_CACHE_KEY`` names another file), created ``0600`` on first use: without it, a
shard's keys cannot be used to confirm that a guessed comment is in the cache (an unsalted
sha256 could be). Shards made under another key are never read. ``themeassist cache clear``
removes the cached embeddings (and with ``--new-key`` replaces the key). The embeddings
themselves would let someone with the model confirm a guessed comment by re-embedding it, so
the CLI writes no cache at all under ``--redact``. Shards are written atomically
(temp file + rename), one per chunk of new texts, so a run killed part way keeps every finished
chunk. A shard that fails its checks (corrupted, foreign, other version or model) is reported,
removed and recomputed, never loaded. Nothing is pickled.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from themeassist.exceptions import CacheError

CACHE_VERSION = "2"
_KEY_BYTES = 32


def default_cache_dir() -> Path:
    """The user's cache folder for themeassist (``$THEMEASSIST_CACHE_DIR`` overrides it)."""
    env = os.environ.get("THEMEASSIST_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("themeassist")) / "embeddings"


def cache_key_path() -> Path:
    """File holding the cache's secret key (``$THEMEASSIST_CACHE_KEY`` overrides the default,
    ``cache-key`` in the user's config folder for themeassist)."""
    env = os.environ.get("THEMEASSIST_CACHE_KEY")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("themeassist")) / "cache-key"


def cache_secret(create: bool = True) -> bytes:
    """The cache's secret key, created (``0600``, random) on first use.

    Raises :class:`CacheError` when the key file cannot be read or written, or is malformed.
    """
    path = cache_key_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise CacheError(f"no embedding-cache key at {path}") from None
        return _new_secret(path)
    except OSError as exc:
        raise CacheError(f"the embedding-cache key {path} cannot be read ({exc.strerror or exc}); fix its "
                         "permissions, or set THEMEASSIST_CACHE_KEY to another file.") from exc  # fmt: skip
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != _KEY_BYTES:
        raise CacheError(f"the embedding-cache key {path} is malformed; delete it (a new one is made, and "
                         "the old cached embeddings are no longer used) or run `themeassist cache clear --new-key`.")
    return key


def _new_secret(path: Path, replace: bool = False) -> bytes:
    from themeassist.io.tables import atomic_write_text, make_dirs

    key = secrets.token_bytes(_KEY_BYTES)
    try:
        make_dirs(path.parent)
        if replace:
            atomic_write_text(path, key.hex() + "\n")
            return key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return cache_secret(create=False)
    except OSError as exc:
        raise CacheError(f"the embedding-cache key cannot be written at {path} ({exc.strerror or exc}); set "
                         "THEMEASSIST_CACHE_KEY to a file you can write, or pass --cache-dir with the cache "
                         "turned off (cache_dir=False).") from exc  # fmt: skip
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")
    return key


def new_cache_key() -> Path:
    """Replace the cache's secret key (every embedding cached so far is no longer read)."""
    _new_secret(cache_key_path(), replace=True)
    return cache_key_path()


def key_id(secret: bytes) -> str:
    """A short public identifier of a key (stored in shards, so shards of another key are skipped)."""
    return hashlib.sha256(b"themeassist-cache-key-id" + secret).hexdigest()[:16]


def text_keys(texts: Sequence[str], secret: bytes | None = None) -> np.ndarray:
    """HMAC-SHA256 of each text (UTF-8, lone surrogates escaped) under ``secret`` (default: the
    cache key, :func:`cache_secret`) as a uint8 array of shape (n, 32)."""
    key = cache_secret() if secret is None else secret
    out = np.empty((len(texts), 32), dtype=np.uint8)
    for i, t in enumerate(texts):
        digest = hmac.new(key, str(t).encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        out[i] = np.frombuffer(digest, dtype=np.uint8)
    return out


def _digest(keys: np.ndarray, emb: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(keys).tobytes())
    h.update(np.ascontiguousarray(emb).tobytes())
    return h.hexdigest()


class EmbeddingCache:
    """Shards of cached embeddings for one model under ``root``.

    Examples
    --------
    >>> cache = EmbeddingCache("/tmp/ta-cache", "st:demo:0123")      # doctest: +SKIP
    >>> found, rows = cache.lookup(text_keys(["hello"]))               # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike, model_id: str, secret: bytes | None = None) -> None:
        self.root = Path(root)
        self.model_id = model_id
        self.folder = self.root / re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)
        self.secret = secret

    @property
    def key_id(self) -> str:
        if self.secret is None:
            self.secret = cache_secret()
        return key_id(self.secret)

    def check(self) -> None:
        """Raise :class:`CacheError` for a cache folder that cannot work (a file, no permission), and
        when the secret key lies inside the cache folder."""
        for p in (self.root, self.folder):
            if p.exists() and not p.is_dir():
                raise CacheError(f"embedding cache folder {p} is a file, not a folder; pass --cache-dir "
                                 "another folder.")  # fmt: skip
        probe = self.root
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if probe.is_dir() and not os.access(probe, os.R_OK | os.W_OK | os.X_OK):
            raise CacheError(f"embedding cache folder {probe} cannot be used (permission denied); pass "
                             "--cache-dir a folder you can write to.")  # fmt: skip
        key = cache_key_path().resolve()
        if self.root.resolve() in key.parents:
            raise CacheError(f"the embedding-cache key {key} is inside the cache folder {self.root}; keep it "
                             "outside (set THEMEASSIST_CACHE_KEY to a file elsewhere).")  # fmt: skip

    def _shards(self) -> list[Path]:
        try:
            return sorted(self.folder.glob("*.safetensors")) if self.folder.is_dir() else []
        except OSError as exc:
            raise CacheError(f"embedding cache folder {self.folder} cannot be read ({exc.strerror or exc}); "
                             "pass --cache-dir another folder.") from exc  # fmt: skip

    def _read(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as fh:
                meta = fh.metadata() or {}
                keys, emb = fh.get_tensor("keys"), fh.get_tensor("embeddings")
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a corrupted shard
            raise CacheError(f"cache shard {path} cannot be read ({exc})") from exc
        if meta.get("format") != "themeassist-embeddings" or meta.get("version") != CACHE_VERSION:
            raise CacheError(f"cache shard {path} is not a themeassist v{CACHE_VERSION} shard")
        if meta.get("key_id") != self.key_id:
            raise _OtherKey(path)
        if meta.get("model_id") != self.model_id:
            raise CacheError(f"cache shard {path} belongs to model {meta.get('model_id')!r}, not {self.model_id!r}")
        if keys.ndim != 2 or keys.shape[1] != 32 or emb.ndim != 2 or len(keys) != len(emb):
            raise CacheError(f"cache shard {path} has inconsistent shapes {keys.shape} and {emb.shape}")
        if meta.get("sha256") != _digest(keys, emb):
            raise CacheError(f"cache shard {path} fails its checksum (corrupted)")
        return keys, emb.astype(np.float32, copy=False)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Return ``(found, embeddings)``: a boolean mask over ``keys`` and an array with the cached
        rows filled in (other rows zero), or ``None`` when nothing was found."""
        wanted: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            wanted.setdefault(k.tobytes(), []).append(i)
        found = np.zeros(len(keys), dtype=bool)
        out: np.ndarray | None = None
        for path in self._shards():
            try:
                skeys, emb = self._read(path)
            except _OtherKey:
                continue  # made under another key: never read, left alone (`themeassist cache clear`)
            except CacheError as exc:
                warnings.warn(f"{exc}; removing it, its texts will be embedded again.", stacklevel=3)
                path.unlink(missing_ok=True)
                continue
            for j, k in enumerate(skeys):
                rows = wanted.get(k.tobytes())
                if rows is None or found[rows[0]]:
                    continue
                if out is None:
                    out = np.zeros((len(keys), emb.shape[1]), dtype=np.float32)
                if emb.shape[1] != out.shape[1]:
                    continue
                out[rows] = emb[j]
                found[rows] = True
            if found.all():
                break
        return found, out

    def store(self, keys: np.ndarray, embeddings: np.ndarray) -> Path:
        """Write one shard atomically and return its path."""
        from safetensors.numpy import save

        keys = np.ascontiguousarray(keys, dtype=np.uint8)
        emb = np.ascontiguousarray(embeddings, dtype=np.float32)
        meta = {"format": "themeassist-embeddings", "version": CACHE_VERSION, "model_id": self.model_id,
                "key_id": self.key_id, "sha256": _digest(keys, emb)}
        from themeassist.io.tables import make_dirs

        try:
            make_dirs(self.folder)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        except OSError as exc:
            why = "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            raise CacheError(f"cannot write the embedding cache in {self.folder} ({why}); free space, pass "
                             "--cache-dir another folder, or turn the cache off.") from exc  # fmt: skip
        final = self.folder / f"{uuid.uuid4().hex}.safetensors"
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(save({"keys": keys, "embeddings": emb}, metadata=meta))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return final


class _OtherKey(CacheError):
    """A shard written under another cache key."""


_SHARD = re.compile(r"^[0-9a-f]{32}\.safetensors$|^tmp.*\.tmp$")


def clear_cache(root: str | os.PathLike | None = None) -> tuple[int, int]:
    """Remove every cached embedding under ``root`` (default :func:`default_cache_dir`).

    Only the files the cache writes are removed (``<model>/<32 hex>.safetensors`` and temporary
    files), then the model folders and ``root`` if they are left empty. Returns ``(files, bytes)``
    removed.

    Examples
    --------
    >>> import tempfile
    >>> clear_cache(tempfile.mkdtemp())
    (0, 0)
    """
    base = Path(root) if root is not None else default_cache_dir()
    if not base.exists():
        return 0, 0
    if not base.is_dir():
        raise CacheError(f"embedding cache folder {base} is a file, not a folder; nothing was removed.")
    n = size = 0
    for sub in sorted(p for p in base.iterdir() if p.is_dir() and not p.is_symlink()):
        for f in sub.iterdir():
            if f.is_file() and not f.is_symlink() and _SHARD.match(f.name):
                size += f.stat().st_size
                f.unlink()
                n += 1
        try:
            sub.rmdir()
        except OSError:
            pass  # something else is in there: left alone
    try:
        base.rmdir()
    except OSError:
        pass
    return n, size
