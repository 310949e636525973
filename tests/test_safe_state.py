"""Safe state: no pickle anywhere; saved folders and caches hold only json/parquet/npy/safetensors;
corrupted or foreign saved state is detected (and rebuilt where it is a cache), never loaded."""

from __future__ import annotations

import ast
import json
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import themeassist
from themeassist.embed import CachedEmbedder
from themeassist.exceptions import CacheError
from themeassist.batch.chunked import run_chunked

SRC = Path(themeassist.__file__).resolve().parent
SAFE_SUFFIXES = {".json", ".parquet", ".npy", ".safetensors"}

_BANNED_MODULES = {"pickle", "cPickle", "_pickle", "joblib", "cloudpickle", "dill", "shelve", "marshal"}
_BANNED_CALLS = {("torch", "save"), ("torch", "load"), ("yaml", "unsafe_load"),
                 ("yaml", "full_load"), ("pd", "read_pickle"), ("pandas", "read_pickle")}  # fmt: skip
_BANNED_METHODS = {"to_pickle", "read_pickle", "unsafe_load"}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(SRC.parent)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where} imports {a.name}" for a in node.names if a.name.split(".")[0] in _BANNED_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _BANNED_MODULES:
            found.append(f"{where} imports from {node.module}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                base = func.value.id if isinstance(func.value, ast.Name) else None
                if (base, func.attr) in _BANNED_CALLS or func.attr in _BANNED_METHODS:
                    found.append(f"{where} calls {base}.{func.attr}")
                elif (base, func.attr) == ("yaml", "load") and not _safe_loader(path, node):
                    found.append(f"{where} calls yaml.load without a SafeLoader")
            for kw in node.keywords:
                val = kw.value.value if isinstance(kw.value, ast.Constant) else None
                if kw.arg == "allow_pickle" and val is not False:
                    found.append(f"{where} passes allow_pickle={ast.unparse(kw.value)}")
                if kw.arg == "serialization" and val == "pickle":  # BERTopic.save(serialization="pickle")
                    found.append(f"{where} saves with serialization='pickle'")
                if kw.arg == "weights_only" and val is False:
                    found.append(f"{where} loads torch weights with weights_only=False")
    return found


def _safe_loader(path: Path, call: ast.Call) -> bool:
    """yaml.load(..., Loader=X) where X is yaml.SafeLoader/CSafeLoader or a subclass of SafeLoader."""
    import importlib

    import yaml

    loader = next((kw.value for kw in call.keywords if kw.arg == "Loader"), None)
    if isinstance(loader, ast.Attribute) and isinstance(loader.value, ast.Name) and loader.value.id == "yaml":
        return loader.attr in ("SafeLoader", "CSafeLoader")
    if not path.is_relative_to(SRC):
        return False
    module = importlib.import_module(".".join(("themeassist", *path.relative_to(SRC).with_suffix("").parts)))
    if isinstance(loader, ast.Name):  # a class defined or imported in the module
        cls = getattr(module, loader.id, None)
    elif isinstance(loader, ast.Attribute) and isinstance(loader.value, ast.Name):  # helper_module.Loader
        cls = getattr(getattr(module, loader.value.id, None), loader.attr, None)
    else:
        return False
    return isinstance(cls, type) and issubclass(cls, yaml.SafeLoader)


def test_the_source_never_pickles() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 10
    problems = [v for f in files for v in _violations(f)]
    assert problems == []


def test_the_checker_catches_what_it_looks_for(tmp_path: Path) -> None:
    global SRC
    bad = tmp_path / "pkg" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("import joblib\nfrom pickle import loads\nimport numpy as np, torch, yaml\n"
                   "np.load('x', allow_pickle=True)\ntorch.save(1, 'f')\nyaml.load('a', Loader=yaml.Loader)\n"
                   "df.to_pickle('f')\nm.save('p', serialization='pickle')\nnp.load('y', allow_pickle=False)\n")
    old, SRC = SRC, tmp_path
    try:
        found = _violations(bad)
    finally:
        SRC = old
    assert [f.split(" ", 1)[1] for f in found] == [
        "imports joblib", "imports from pickle", "passes allow_pickle=True", "calls torch.save",
        "calls yaml.load without a SafeLoader", "calls df.to_pickle", "saves with serialization='pickle'"]  # fmt: skip


class HashEmbedder:
    """Fast deterministic embedder: word-hash bag of words (similar texts share words)."""

    model_id = "test:hash-bow:v1"

    def encode(self, texts):  # type: ignore[no-untyped-def]
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in str(t).lower().split():
                out[i, int.from_bytes(w.encode("utf-8", "surrogatepass")[:8].ljust(8, b"\0"), "little") % 64] += 1
            out[i, 63] += 0.01
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _topics_corpus() -> pd.DataFrame:
    from themeassist.corpus import load_corpus

    groups = {"waiting list too long for therapy": 20, "kind staff listened to me": 20, "parking at clinic awful": 20}
    texts = [f"{t} {i}" for t, n in groups.items() for i in range(n)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_corpus(pd.DataFrame({"comment": texts}), text_col="comment")


@pytest.fixture(scope="module")
def saved_discovery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from themeassist.discovery import CandidateDiscovery

    folder = tmp_path_factory.mktemp("disc") / "model"
    disc = CandidateDiscovery(embedder=HashEmbedder(), min_topic_size=5, show_progress=False, random_state=0)
    disc.fit(_topics_corpus()).save(folder)
    return folder


@pytest.mark.slow
def test_saved_discovery_holds_only_safe_formats_and_loads_without_pickle(saved_discovery: Path) -> None:
    from themeassist.discovery import CandidateDiscovery

    files = [p for p in saved_discovery.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= SAFE_SUFFIXES, sorted(p.name for p in files)
    for p in files:
        if p.suffix == ".npy":
            arr = np.load(p, allow_pickle=False)  # object arrays would need pickle and fail here
            assert arr.dtype != object
    manifest = json.loads((saved_discovery / "manifest.json").read_text())
    assert set(manifest["files"]) == {p.name for p in files} - {"manifest.json"}
    assert all(len(v["sha256"]) == 64 and v["bytes"] > 0 for v in manifest["files"].values())
    assert manifest["format"] == "themeassist-run-folder" and manifest["kind"] == "discovery"
    loaded = CandidateDiscovery.load(saved_discovery)
    assert len(loaded.candidate_codes_) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["flip_npy", "flip_parquet", "foreign_manifest", "missing_file",
                                    "pickle_in_place", "older_format", "other_kind", "unlisted_file"])  # fmt: skip
def test_damaged_or_foreign_discovery_folder_is_refused(saved_discovery: Path, tmp_path: Path, damage: str) -> None:
    from themeassist.discovery import CandidateDiscovery

    folder = tmp_path / "copy"
    shutil.copytree(saved_discovery, folder)
    marker = tmp_path / "UNPICKLED"
    if damage == "flip_npy":
        data = bytearray((folder / "centroids.npy").read_bytes())
        data[-1] ^= 0x01
        (folder / "centroids.npy").write_bytes(bytes(data))
        expected = "centroids.npy does not match its sha256"
    elif damage == "flip_parquet":
        data = bytearray((folder / "assignments.parquet").read_bytes())
        data[len(data) // 2] ^= 0x01
        (folder / "assignments.parquet").write_bytes(bytes(data))
        expected = "assignments.parquet does not match its sha256"
    elif damage == "foreign_manifest":
        (folder / "manifest.json").write_text(json.dumps({"format": "bertopic", "files": {}}))
        expected = "manifest.json is not a themeassist run-folder manifest"
    elif damage == "missing_file":
        (folder / "vocabulary.json").unlink()
        expected = "vocabulary.json is missing"
    elif damage in ("older_format", "other_kind", "unlisted_file"):
        manifest = json.loads((folder / "manifest.json").read_text())
        if damage == "older_format":  # what themeassist wrote before the one run-folder format
            manifest = {"format": "themeassist.discovery", "format_version": 1, "files": {}}
            expected = "written by an older themeassist .*Fit the discovery again and save it"
        elif damage == "other_kind":
            manifest["kind"] = "batch"
            expected = "is a 'batch' folder, not a 'discovery' folder"
        else:
            del manifest["files"]["centroids.npy"]
            expected = r"centroids.npy is missing \(not listed in manifest.json\)"
        (folder / "manifest.json").write_text(json.dumps(manifest))
    else:  # a pickle payload dropped in place of an array must never be unpickled
        (folder / "centroids.npy").write_bytes(pickle.dumps(_Evil(str(marker))))
        expected = "centroids.npy does not match its sha256"
    with pytest.raises(CacheError, match=expected):
        CandidateDiscovery.load(folder)
    assert not marker.exists()


class _Evil:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (Path(self.path),))


class Counting(HashEmbedder):
    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.calls += 1
        return super().encode(texts)


def test_embedding_cache_holds_only_safetensors_and_rebuilds_foreign_shards(tmp_path: Path) -> None:
    inner = Counting()
    emb = CachedEmbedder(inner, tmp_path)
    ref = emb.encode(["alpha beta", "gamma"])
    assert {p.suffix for p in tmp_path.rglob("*") if p.is_file()} == {".safetensors"}
    # a shard written for another model, copied into this model's folder, is refused and rebuilt
    other = Counting()
    other.model_id = "test:other:v1"
    other_cache = CachedEmbedder(other, tmp_path / "elsewhere")
    other_cache.encode(["alpha beta", "gamma"])
    (foreign,) = list(other_cache.cache.folder.glob("*.safetensors"))
    for p in emb.cache.folder.glob("*.safetensors"):
        p.unlink()
    shutil.copy(foreign, emb.cache.folder / foreign.name)
    marker = tmp_path / "UNPICKLED"
    (emb.cache.folder / "zz-evil.safetensors").write_bytes(pickle.dumps(_Evil(str(marker))))
    with pytest.warns(UserWarning) as record:
        again = emb.encode(["alpha beta", "gamma"])
    messages = " ".join(str(w.message) for w in record)
    assert "belongs to model 'test:other:v1'" in messages and "cannot be read" in messages
    assert inner.calls == 2 and not marker.exists()
    np.testing.assert_allclose(again, ref)
    assert not (emb.cache.folder / foreign.name).exists() and not (emb.cache.folder / "zz-evil.safetensors").exists()


def test_run_folder_holds_only_json_and_parquet(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_chunked(["a", "b", "c"], lambda c: pd.DataFrame({"t": c}), out_path=None, run_dir=run, chunk_size=2)
    assert {p.suffix for p in run.iterdir()} == {".json", ".parquet"}
