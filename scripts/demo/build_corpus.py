"""Step 2 of building the illustrative IAPT demo corpus: join the specs with the written texts.

``specs.csv`` (from ``build_specs.py``) gives each comment's year, gold themes and respondent
profile; ``texts_part*.csv`` hold the comments written for those specs (``doc_id, text``).
The result is the package data file ``src/themeassist/data/iapt_demo.csv`` with columns
``doc_id, year, text, themes, gender, profession``. Run: ``python scripts/demo/build_corpus.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "src" / "themeassist" / "data" / "iapt_demo.csv"


def main() -> pd.DataFrame:
    specs = pd.read_csv(HERE / "specs.csv", dtype=str, keep_default_na=False)
    texts = pd.concat(
        [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(HERE.glob("texts_part*.csv"))],
        ignore_index=True,
    )
    dup = texts.doc_id[texts.doc_id.duplicated()].tolist()
    if dup:
        raise SystemExit(f"doc_ids written twice: {dup[:10]}")
    missing = sorted(set(specs.doc_id) - set(texts.doc_id))
    if missing:
        raise SystemExit(f"{len(missing)} specs have no text yet, e.g. {missing[:10]}")
    corpus = specs.merge(texts[["doc_id", "text"]], on="doc_id", how="left", validate="one_to_one")
    corpus["text"] = corpus["text"].str.strip()
    corpus = corpus[["doc_id", "year", "text", "themes", "gender", "profession"]]
    corpus.to_csv(OUT, index=False)
    return corpus


if __name__ == "__main__":
    c = main()
    words = c.text.str.split().str.len()
    print(f"{len(c)} comments written to {OUT}; words per comment: min {words.min()}, "
          f"median {int(words.median())}, max {words.max()}")
