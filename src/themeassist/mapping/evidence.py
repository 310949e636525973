"""The ``evidence`` column of the suggestions: why each theme was suggested (private to the mapping stage)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from themeassist.mapping.align import _snip

__all__: list[str] = []


def evidence_strings(E: np.ndarray, picks: list[list[int]], leaf_names: Sequence[str], protos: np.ndarray,
                     proto_texts: Sequence[str], examples: pd.DataFrame | None = None,
                     example_embeddings: np.ndarray | None = None,
                     example_labels: np.ndarray | None = None) -> list[str]:
    """Per comment, for each suggested leaf: the most similar coded example of the leaf (``like
    example <doc_id> '<text>' (similarity 0.81)``) or, without one, the leaf's codebook text.

    ``E``: embeddings of the comments (unit rows); ``picks``: the suggested leaf indices per comment.
    """
    out = [""] * len(picks)
    if examples is None or example_embeddings is None or example_labels is None:
        S = E @ protos.T
        for r, js in enumerate(picks):
            out[r] = " | ".join(f"{leaf_names[j]}: codebook text {_snip(proto_texts[j])} "
                                f"(similarity {S[r, j]:.2f})" for j in js)
        return out
    ids, exT, Yx = examples["doc_id"].tolist(), examples["text"].tolist(), example_labels
    for start in range(0, len(picks), 2000):
        stop = min(start + 2000, len(picks))
        S = E[start:stop] @ example_embeddings.T
        for r in range(start, stop):
            parts = []
            for j in picks[r]:
                pos = np.where(Yx[:, j] > 0)[0]
                if len(pos):
                    b = pos[int(np.argmax(S[r - start, pos]))]
                    parts.append(f"{leaf_names[j]}: like example {ids[b]} {_snip(exT[b])} "
                                 f"(similarity {S[r - start, b]:.2f})")
                else:
                    sim = float(E[r] @ protos[j])
                    parts.append(f"{leaf_names[j]}: codebook text {_snip(proto_texts[j])} (similarity {sim:.2f})")
            out[r] = " | ".join(parts)
    return out
