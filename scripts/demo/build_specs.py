"""Step 1 of building the illustrative IAPT demo corpus: turn the written prevalence table
into one specification per comment (year, gold themes, voice), before any text exists.

The per-year theme counts in ``src/themeassist/data/iapt_demo_prevalence.csv`` were written
first, following the seed study's narrative. This script deals each year's theme labels into
that year's comments (one to three themes per comment), adds off-topic remarks and non-answers,
and draws a respondent profile for each. Writers then wrote a fresh comment for every spec
(``texts_*.csv``) and ``build_corpus.py`` joins the two. Run: ``python scripts/demo/build_specs.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
TABLE = HERE.parents[1] / "src" / "themeassist" / "data" / "iapt_demo_prevalence.csv"
# comments per year, in proportion to the study's respondents (161, 372, 531, 194, 285)
N_PER_YEAR = {"2014": 65, "2015": 150, "2016": 214, "2017": 78, "2018": 115}
N_NON_ANSWER = {"2014": 2, "2015": 5, "2016": 7, "2017": 3, "2018": 4}
N_OFF_TOPIC = {"2014": 3, "2015": 6, "2016": 9, "2017": 3, "2018": 5}
PROFESSIONS = {
    "CBT Therapist": 0.26, "PWP": 0.22, "Counsellor": 0.14, "Clinical Psychologist": 0.12,
    "Psychotherapist": 0.06, "Counselling Psychologist": 0.05, "Trainee": 0.05,
    "Service Manager": 0.05, "IPT Therapist": 0.05,
}
GENDERS = {"Female": 0.79, "Male": 0.19, "Not documented": 0.02}
REGISTERS = ["terse", "measured", "angry", "weary", "reflective", "hopeful", "formal", "chatty",
             "list-like", "sarcastic"]


def deal_year(counts: pd.Series, n_comments: int, rng: np.random.Generator) -> list[list[str]]:
    """Deal ``counts[t]`` labels of each theme into ``n_comments`` comments, 1-3 distinct themes each."""
    total = int(counts.sum())
    for _ in range(1000):
        sizes = np.ones(n_comments, dtype=int)
        extra = total - n_comments
        while extra > 0:
            i = rng.integers(n_comments)
            if sizes[i] < 3:
                sizes[i] += 1
                extra -= 1
        remaining = counts[counts > 0].astype(int).to_dict()
        out: list[list[str]] = []
        ok = True
        for k, size in enumerate(sorted(sizes, reverse=True)):
            left = n_comments - k
            forced = [t for t, c in remaining.items() if c >= left]
            if len(forced) > size or len(remaining) < size:
                ok = False
                break
            pool = [t for t in remaining if t not in forced]
            w = np.array([remaining[t] for t in pool], dtype=float)
            pick = list(forced)
            if size > len(pick):
                pick += list(rng.choice(pool, size - len(pick), replace=False, p=w / w.sum()))
            for t in pick:
                remaining[t] -= 1
                if remaining[t] == 0:
                    del remaining[t]
            out.append(pick)
        if ok and not remaining:
            rng.shuffle(out)
            return out
    raise RuntimeError("could not deal the labels; check the table")


def main(seed: int = 2020) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.read_csv(TABLE, index_col="theme")
    rows = []
    for year, n in N_PER_YEAR.items():
        n_na, n_off = N_NON_ANSWER[year], N_OFF_TOPIC[year]
        kinds = ["themed"] * (n - n_na - n_off) + ["non_answer"] * n_na + ["off_topic"] * n_off
        themed = iter(deal_year(table[year], n - n_na - n_off, rng))
        for kind in kinds:
            themes = next(themed) if kind == "themed" else []
            profession = rng.choice(list(PROFESSIONS), p=list(PROFESSIONS.values()))
            if "Inter-professional Rivalry" in themes and rng.random() < 0.7:
                profession = rng.choice(["Counsellor", "PWP"])
            words = int(np.clip(rng.lognormal(np.log(38), 0.7), 5, 150)) if kind == "themed" else None
            rows.append({
                "year": year, "kind": kind, "themes": "|".join(themes),
                "gender": rng.choice(list(GENDERS), p=list(GENDERS.values())),
                "profession": profession,
                "register": rng.choice(REGISTERS) if kind == "themed" else "",
                "target_words": words if words else "",
            })
    specs = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).sort_values("year", kind="stable")
    specs.insert(0, "doc_id", [f"D{i:04d}" for i in range(1, len(specs) + 1)])
    specs.to_csv(HERE / "specs.csv", index=False)
    return specs


if __name__ == "__main__":
    s = main()
    print(s.groupby("year").size())
    print(s.kind.value_counts())
