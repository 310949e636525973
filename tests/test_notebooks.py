"""The tutorial notebooks: committed without outputs, and each runs top to bottom (nbclient)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("01_quickstart.ipynb", "02_nhs_patient_comments.ipynb", "03_your_own_codebook.ipynb")


@pytest.fixture(scope="module")
def embed_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache for the test session (shared with tests/test_pipeline.py)."""
    path = tmp_path_factory.getbasetemp() / "shared-embed-cache"
    path.mkdir(exist_ok=True)
    return path


class _KernelEnv:
    """Environment variables for the kernel process (it inherits this process's environment);
    MPLBACKEND is removed so that the notebooks' ``%matplotlib inline`` draws their figures."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = {**env, "MPLBACKEND": None}

    def __enter__(self) -> None:
        self.old = {k: os.environ.get(k) for k in self.env}
        for k, v in self.env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def __exit__(self, *exc: object) -> None:
        for k, v in self.old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _execute(name: str, workdir: Path, env: dict[str, str], timeout: int = 600) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    # run in a scratch folder so files a notebook writes stay out of the repository
    run_dir = workdir / "notebooks"
    run_dir.mkdir(parents=True, exist_ok=True)
    with _KernelEnv(env):
        client = NotebookClient(nb, kernel_name="python3", timeout=timeout, allow_errors=False,
                                resources={"metadata": {"path": str(run_dir)}})
        client.execute()
    return nb


def _base_env(cache: Path, data: Path | None) -> dict[str, str]:
    env = {"THEMEASSIST_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    env["THEMEASSIST_DATA"] = str(data) if data is not None else str(Path("/nonexistent-themeassist-data"))
    return env


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name} has no code cells"
    for i, cell in enumerate(code):
        assert cell.get("outputs", []) == [], f"{name}: code cell {i} has outputs; strip them before committing"
        assert cell.get("execution_count") is None, f"{name}: code cell {i} has an execution count"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    prose = sum(c.cell_type == "markdown" for c in nb.cells)
    assert prose >= len(code) // 2, f"{name}: a tutorial needs prose between the code cells"


def _outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            data = out.get("data", {})
            parts.append(data.get("text/plain", ""))
    return "\n".join(parts)


def _n_images(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


@pytest.mark.slow
def test_quickstart_runs(tmp_path: Path, embed_cache: Path) -> None:
    nb = _execute(NAMES[0], tmp_path, _base_env(embed_cache, None))
    text = _outputs_text(nb)
    assert "622 comments from 5 survey years" in text and "regime: few-shot" in text
    assert "held out (each of the 208 coded examples" in text and "(expected 0." in text
    assert _n_images(nb) == 2  # prevalence small multiples and the heatmap


@pytest.mark.slow
def test_own_codebook_runs(tmp_path: Path, embed_cache: Path) -> None:
    nb = _execute(NAMES[2], tmp_path, _base_env(embed_cache, None))
    text = _outputs_text(nb)
    assert "12 decisions read back" in text and "staff_pressures.qdc" in text
    assert _n_images(nb) == 1
    assert not (NOTEBOOKS / "own-codebook-work").exists()  # files went to the scratch folder


@pytest.mark.slow
def test_nhs_notebook_runs(tmp_path: Path, embed_cache: Path, shared_data: Path) -> None:
    nb = _execute(NAMES[1], tmp_path, _base_env(embed_cache, shared_data))
    text = _outputs_text(nb)
    assert "400 coded examples, 400 comments to code" in text and "month-first" in text
    assert _n_images(nb) == 1


def test_nhs_notebook_stops_cleanly_without_data(tmp_path: Path) -> None:
    """Without ../shared/data the first code cell says so and stops (no traceback into the library)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(NOTEBOOKS / NAMES[1], as_version=4)
    with _KernelEnv(_base_env(tmp_path / "cache", None)):
        client = NotebookClient(nb, kernel_name="python3", timeout=120,
                                resources={"metadata": {"path": str(tmp_path)}})
        with pytest.raises(CellExecutionError) as info:
            client.execute()
    assert "StopNotebook" in str(info.value)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    shown = "".join(o.get("text", "") for o in first_code.outputs)
    assert "NHS data not found" in shown
    ran = [c for c in nb.cells if c.cell_type == "code" and c.get("execution_count")]
    assert len(ran) == 1  # nothing after the check ran


def test_kernel_available() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    assert "python3" in KernelSpecManager().find_kernel_specs()
