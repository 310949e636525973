"""No network, ever: the whole job runs with every socket blocked, in-process and from the CLI.

tests/conftest.py already refuses non-loopback connections for the whole suite. Here the guard is
stricter (no DNS lookup, no internet socket at all, loopback included) and the command line is
also run in a fresh process whose sockets are blocked by a ``sitecustomize`` module (and, where
the system allows it, inside a network namespace with no interfaces: ``unshare -n``), with the
Hugging Face offline variables *unset*, so the library alone must keep itself offline.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themeassist.corpus import load_corpus

NORMAL = ["the waiting list was far too long", "my therapist was kind and listened", "parking at the clinic is awful",
          "sessions felt rushed and too short", "the online course really helped me", "too many targets and stress"]  # fmt: skip


def _comments(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "id": [f"N{i}" for i in range(n)],
        "comment": [f"{NORMAL[i % len(NORMAL)]} {rng.choice(['indeed', 'again', 'today', ''])}" for i in range(n)],
        "year": [2021 + i % 3 for i in range(n)],
    })  # fmt: skip


class Attempts(list):
    pass


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Attempts:
    """Refuse (and record) every DNS lookup and every internet socket connection, loopback too."""
    attempts = Attempts()

    def refuse(what: str):  # type: ignore[no-untyped-def]
        def f(*args, **kwargs):  # type: ignore[no-untyped-def]
            attempts.append((what, args[1:2] if what.startswith("socket.") else args[:1]))
            raise OSError(f"network blocked by test_network: {what}{args[1:2] if what.startswith('socket.') else args[:1]}")
        return f

    real_connect = socket.socket.connect

    def connect(self, address):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6):
            return refuse("socket.connect")(self, address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
    return attempts


def test_socket_attempts_raise(no_sockets: Attempts) -> None:
    for target in (("93.184.216.34", 443), ("127.0.0.1", 9)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, pytest.raises(OSError, match="network blocked"):
            s.connect(target)
    with pytest.raises(OSError, match="network blocked"):
        socket.create_connection(("huggingface.co", 443))
    with pytest.raises(OSError, match="network blocked"):
        socket.getaddrinfo("huggingface.co", 443)
    assert len(no_sockets) == 4


def test_conftest_blocks_the_network_for_the_whole_suite() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, pytest.raises(RuntimeError, match="network"):
        s.connect(("203.0.113.1", 80))  # TEST-NET-3: never routed


def _model() -> str:
    from themeassist.embed import static_model_path

    return "static" if static_model_path().is_dir() else "minilm"


@pytest.mark.slow
def test_whole_job_in_process_without_network(no_sockets: Attempts, tmp_path: Path) -> None:
    from themeassist.discovery import CandidateDiscovery
    from themeassist.drift import changes, prevalence
    from themeassist.embed import get_embedder
    from themeassist.io.tables import write_table
    from themeassist.mapping import ThemeMapper
    from themeassist.redact import redact
    from themeassist.batch.chunked import resumable_suggest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = load_corpus(_comments(60), text_col="comment", id_col="id", period_col="year")
        emb = get_embedder(_model(), cache_dir=tmp_path / "cache", show_progress=False)
        minilm = get_embedder("minilm", cache_dir=tmp_path / "cache", show_progress=False)
        assert minilm.encode(["a few words"]).shape == (1, 384)  # the default model loads offline too
        disc = CandidateDiscovery(embedder=emb, show_progress=False, min_topic_size=5).fit(corpus)
        disc.save(tmp_path / "disc")
        CandidateDiscovery.load(tmp_path / "disc")
        mapper = ThemeMapper(embedder=emb).fit("iapt")
        sugg = resumable_suggest(mapper, corpus, tmp_path / "suggestions.csv", chunk_size=25)
        table = prevalence(sugg, period=corpus["period"], codebook=mapper.codebook_, status=corpus["status"])
        changes(table)
        redacted, _ = redact(corpus, names=["Sam"])
        write_table(redacted, tmp_path / "redacted.csv")
    assert len(disc.assignments_) == len(sugg) == 60
    assert list(no_sockets) == []  # not one attempt, not even a DNS lookup


_SITECUSTOMIZE = '''
import os, socket
_log = os.environ["TA_NET_LOG"]
def _refuse(what):
    def f(*args, **kwargs):
        with open(_log, "a") as fh:
            fh.write(f"{what} {args[1:2] if what.startswith('socket.') else args[:1]}\\n")
        raise OSError(f"network blocked by sitecustomize: {what}")
    return f
_connect = socket.socket.connect
def _guard(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        return _refuse("socket.connect")(self, address)
    return _connect(self, address)
socket.socket.connect = _guard
socket.socket.connect_ex = _refuse("socket.connect_ex")
socket.create_connection = _refuse("create_connection")
socket.getaddrinfo = _refuse("getaddrinfo")
socket.gethostbyname = _refuse("gethostbyname")
'''


def _unshare() -> list[str] | None:
    exe = shutil.which("unshare")
    if exe is None:
        return None
    for flags in (["-n"], ["-rn"]):
        if subprocess.run([exe, *flags, "true"], capture_output=True).returncode == 0:
            return [exe, *flags]
    return None


@pytest.mark.slow
def test_cli_runs_with_sockets_blocked_in_a_fresh_process(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    log = tmp_path / "net.log"
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(PYTHONPATH=os.pathsep.join([str(site), env.get("PYTHONPATH", "")]), TA_NET_LOG=str(log),
               TOKENIZERS_PARALLELISM="false")  # fmt: skip
    _comments(40).to_csv(tmp_path / "comments.csv", index=False)
    base = [sys.executable, "-m", "themeassist.cli"]
    common = ["--text-col", "comment", "--id-col", "id", "--model", _model(), "--cache-dir", str(tmp_path / "cache"),
              "--quiet"]  # fmt: skip
    check = subprocess.run([sys.executable, "-c", "import socket; socket.getaddrinfo('example.org', 80)"], env=env,
                           capture_output=True, text=True)  # fmt: skip
    assert check.returncode != 0 and "network blocked by sitecustomize" in check.stderr  # the guard is active
    log.unlink()

    netns = _unshare() or []  # where allowed: a network namespace without interfaces, as well
    runs = {
        "suggest": netns + base + ["suggest", str(tmp_path / "comments.csv"), "--codebook", "iapt", *common,
                                   "--out", str(tmp_path / "suggestions.csv")],
        # discover runs in-process above (a fresh process would spend ~30-50 s compiling UMAP with numba)
    }  # fmt: skip
    for name, cmd in runs.items():
        t0 = time.perf_counter()
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, f"{name}: {res.stderr[-3000:]}"
        print(f"{' '.join(netns)} themeassist {name}: {time.perf_counter() - t0:.1f}s")
    assert not log.exists(), log.read_text()  # no socket attempt at all
    out = pd.read_csv(tmp_path / "suggestions.csv", keep_default_na=False, dtype=str)
    assert out["doc_id"].tolist() == [f"N{i}" for i in range(40)]
