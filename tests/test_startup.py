"""A fast, quiet start (issue 15): what each entry point imports, and a build without banners.

``import themeassist`` and ``themeassist --help`` load no scikit-learn, torch, BERTopic or UMAP
(not even pandas); ``drift``, ``report``, ``export``, ``import-qda`` and ``suggest --model
static`` import no torch, transformers, sentence-transformers or BERTopic; ``discover`` with a
warm embedding cache imports none of the embedding stack. Times are measured in
``benchmarks/startup.py``, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "torch", "bertopic", "umap", "transformers", "sentence_transformers", "pandas", "matplotlib",
         "jinja2")
EMBEDDING_STACK = ("torch", "transformers", "sentence_transformers", "bertopic")


def imported_after(code: str, cwd: Path | None = None) -> set[str]:
    """Top-level packages of HEAVY imported by running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys, json; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(json.loads(proc.stdout.strip().splitlines()[-1])) & set(HEAVY)


def test_import_themeassist_loads_nothing_heavy() -> None:
    assert imported_after("import themeassist") == set()
    # the public names still resolve, each on first use
    assert imported_after("import themeassist as ta; ta.ThemeassistError; ta.NotFittedError") == set()


def test_help_loads_nothing_heavy() -> None:
    code = "from themeassist.cli import build_parser\nbuild_parser().format_help()"
    assert imported_after(code) == set()


def test_not_fitted_error_behaves_like_scikit_learns() -> None:
    from sklearn.exceptions import NotFittedError as SkNotFitted

    from themeassist.exceptions import NotFittedError

    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    assert set(SkNotFitted.__mro__[1:3]) == {ValueError, AttributeError}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("startup")
    texts = ["waiting list far too long", "staff were kind", "parking is awful", "targets everywhere"]
    pd.DataFrame({"id": [f"c{i}" for i in range(40)], "comment": [f"{texts[i % 4]} {i}" for i in range(40)],
                  "year": [2020 + i % 2 for i in range(40)],
                  "codes": ["Resources" if i % 2 else "The Failing Professional" for i in range(40)]}).to_csv(
        d / "c.csv", index=False)  # fmt: skip
    return d


def _cli(argv: list[str]) -> str:
    return f"from themeassist.cli import main\nassert main({argv!r}) == 0"


def test_commands_that_do_not_embed_with_a_transformer_import_no_embedding_stack(workdir: Path) -> None:
    steps = [
        ("suggest --model static", ["suggest", "c.csv", "--text-col", "comment", "--id-col", "id", "--codebook", "iapt",
                                    "--model", "static", "--quiet", "--cache-dir", "cache", "--out", "s.csv"]),
        ("drift", ["drift", "c.csv", "--period-col", "year", "--codes-col", "codes", "--codebook", "iapt",
                   "--out", "drift"]),
        ("report", ["report", "drift", "--out", "r.html"]),
        ("export", ["export", "c.csv", "--text-col", "comment", "--id-col", "id", "--codebook", "iapt",
                    "--codes-col", "codes", "--format", "qdpx", "--out", "p.qdpx"]),
        ("import-qda", ["import-qda", "p.qdpx", "--out", "back.csv"]),
    ]  # fmt: skip
    # one process runs the commands in turn and records, after each, what had been imported so far
    code = "import sys, json\nfrom themeassist.cli import main\nseen = {}\n" + "".join(
        f"assert main({argv!r}) == 0\nseen[{name!r}] = sorted({{m.split('.')[0] for m in sys.modules}} & "
        f"set({EMBEDDING_STACK!r}))\n" for name, argv in steps) + "print(json.dumps(seen))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=workdir, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {name: [] for name, _ in steps}


@pytest.mark.slow
def test_discover_with_a_warm_cache_imports_no_embedding_library(workdir: Path) -> None:
    from themeassist.corpus import load_corpus, substantive
    from themeassist.embed import get_embedder

    # fill the cache in this process (as a first discover would), then discover in a fresh one
    texts = substantive(load_corpus(workdir / "c.csv", text_col="comment", id_col="id"))["text"].tolist()
    get_embedder("minilm", cache_dir=workdir / "cache-minilm", show_progress=False).encode(texts)
    argv = ["discover", "c.csv", "--text-col", "comment", "--id-col", "id", "--model", "minilm", "--quiet",
            "--cache-dir", "cache-minilm", "--out", "disc"]  # fmt: skip
    warm = imported_after(_cli(argv), cwd=workdir)
    assert warm & {"torch", "transformers", "sentence_transformers"} == set()
    # nor pandas' Styler, with the matplotlib.pyplot and jinja2 it brings (about 1 s): no plot is drawn
    assert warm & {"matplotlib", "jinja2"} == set()
    assert "bertopic" in warm and "umap" in warm


def test_pyproject_licence_is_an_spdx_string() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
    assert not any(c.startswith("License ::") for c in meta["project"].get("classifiers", []))


@pytest.mark.slow
def test_building_the_package_prints_no_deprecation_banner(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                           str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)  # fmt: skip
    if proc.returncode != 0 and "No module named pip" in proc.stderr:
        pytest.skip("pip is not available")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "deprecated" not in (proc.stdout + proc.stderr).lower()
