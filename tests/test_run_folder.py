"""One run-folder format: manifest with kind, versions, parameters and a sha256 per file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from themeassist.exceptions import CacheError
from themeassist.io.run_folder import (
    MANIFEST,
    file_sha256,
    is_run_folder,
    load_array,
    load_table,
    read_manifest,
    save_array,
    save_table,
    write_manifest,
)


def _folder(tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "run"
    save_table(folder, "codes.parquet", pd.DataFrame({"theme_id": ["a", "b"], "n": [1, 2]}))
    save_array(folder, "centroids.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
    (folder / "figures").mkdir()
    (folder / "figures" / "p.svg").write_text("<svg/>")
    write_manifest(folder, "discovery", params={"seed": 3}, extra={"model_id": "static:x"})
    return folder


def test_round_trip_lists_every_file_with_its_checksum(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = _folder(tmp_path)
    m = read_manifest(folder, kind="discovery")
    assert sorted(m["files"]) == ["centroids.npy", "codes.parquet", "figures/p.svg"]
    assert m["files"]["codes.parquet"]["sha256"] == file_sha256(folder / "codes.parquet")
    assert m["params"] == {"seed": 3} and m["model_id"] == "static:x" and m["kind"] == "discovery"
    assert load_table(folder, "codes.parquet")["n"].tolist() == [1, 2]
    assert load_array(folder, "centroids.npy")[1, 2] == 5.0
    assert is_run_folder(folder) and is_run_folder(folder, "discovery") and not is_run_folder(folder, "batch")


def test_damaged_missing_foreign_and_wrong_kind_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = _folder(tmp_path)
    with pytest.raises(CacheError, match="not a 'batch' folder"):
        read_manifest(folder, kind="batch")
    (folder / "figures" / "p.svg").write_text("<svg>changed</svg>")
    with pytest.raises(CacheError, match=r"p\.svg does not match its sha256"):
        read_manifest(folder)
    (folder / "figures" / "p.svg").unlink()
    with pytest.raises(CacheError, match=r"p\.svg is missing \(listed in manifest\.json\)"):
        read_manifest(folder)
    assert read_manifest(folder, verify=False)["kind"] == "discovery"
    (folder / MANIFEST).write_text(json.dumps({"format": "something-else"}))
    assert not is_run_folder(folder)
    with pytest.raises(CacheError, match="not a themeassist run-folder manifest"):
        read_manifest(folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not is_run_folder(empty)
    with pytest.raises(CacheError, match="not a folder themeassist wrote"):
        read_manifest(empty)


def test_arrays_never_hold_pickles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="Python objects"):
        save_array(tmp_path, "x.npy", np.array([{"a": 1}], dtype=object))
    np.save(tmp_path / "evil.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        load_array(tmp_path, "evil.npy")


def test_precomputed_file_entries_are_used_as_given(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from themeassist.io.run_folder import data_info, file_info, file_matches

    folder = tmp_path / "run"
    save_table(folder, "a.parquet", pd.DataFrame({"x": [1, 2]}))
    data = (folder / "a.parquet").read_bytes()
    assert data_info(data) == file_info(folder / "a.parquet")
    (folder / "not-listed.txt").write_text("left out on purpose")
    write_manifest(folder, "batch", files={"a.parquet": data_info(data)}, extra={"created": "then"})
    m = read_manifest(folder, kind="batch")
    assert list(m["files"]) == ["a.parquet"] and m["created"] == "then"
    assert file_matches(folder / "a.parquet", m["files"]["a.parquet"])
    assert not file_matches(folder / "a.parquet", data_info(data + b"x"))
    assert not file_matches(folder / "missing.parquet", data_info(data))
    # a wrong precomputed entry is caught when the folder is read
    write_manifest(folder, "batch", files={"a.parquet": data_info(b"other bytes")})
    with pytest.raises(CacheError, match=r"a\.parquet does not match its sha256"):
        read_manifest(folder)


def test_bad_arguments_and_hostile_manifests(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from themeassist.exceptions import ParameterError

    folder = _folder(tmp_path)
    with pytest.raises(ParameterError, match="'kind' parameter of write_manifest must be one of"):
        write_manifest(folder, "model")
    with pytest.raises(ParameterError, match=r"cannot set \['files', 'format'\]"):
        write_manifest(folder, "drift", extra={"format": "x", "files": {}, "title": "ok"})
    with pytest.raises(CacheError, match=r"labels\.parquet is missing \(not listed in manifest\.json\)"):
        read_manifest(folder, require=["codes.parquet", "labels.parquet"])
    m = json.loads((folder / MANIFEST).read_text())
    m["files"]["../outside.txt"] = {"sha256": "0" * 64, "bytes": 1}
    (folder / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(CacheError, match="lists '../outside.txt', outside the folder"):
        read_manifest(folder)
    m["version"] = 1
    (folder / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(CacheError, match="has version 1; this themeassist reads version 2"):
        read_manifest(folder)
