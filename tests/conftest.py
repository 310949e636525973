"""Shared test fixtures. No test may touch the network: sockets to anything but
loopback are refused for the whole session (the library must work offline)."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")
# the embedding cache's secret key: a file of the test session's own, never the user's; made once (the
# pytest-xdist workers inherit it) and removed when the process that made it ends
if "THEMEASSIST_CACHE_KEY" not in os.environ:
    _key_dir = tempfile.mkdtemp(prefix="themeassist-key-")
    atexit.register(shutil.rmtree, _key_dir, ignore_errors=True)
    os.environ["THEMEASSIST_CACHE_KEY"] = os.path.join(_key_dir, "cache-key")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

_real_connect = socket.socket.connect
_real_create_connection = socket.create_connection


class NetworkBlocked(RuntimeError):
    """Raised when code under test tries to reach the network."""


def _is_local(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    if isinstance(address, tuple) and address:
        host = str(address[0])
        return host in ("localhost", "::1") or host.startswith("127.")
    return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_local(address):
        raise NetworkBlocked(f"test tried to open a network connection to {address!r}")
    return _real_connect(self, address)


def _guarded_create_connection(address, *args, **kwargs):  # type: ignore[no-untyped-def]
    if not _is_local(address):
        raise NetworkBlocked(f"test tried to open a network connection to {address!r}")
    return _real_create_connection(address, *args, **kwargs)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.create_connection = _guarded_create_connection  # type: ignore[assignment]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder; tests that need it skip cleanly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared evaluation data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def nhs_v6_csv(shared_data: Path) -> Path:
    path = shared_data / "nhs_fft" / "v6framework_230831.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path
