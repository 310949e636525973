"""The whole round trip from the command line on a codebook with repeated names (issue 12).

The codebook has a leaf name at the top level and under two parents (``words``), a leaf name under
two parents (``sentence``), a child named like its parent (``Care received > Care received``) and a
parent coded on its own (``add``). The steps: ``suggest`` with examples written as names or
paths; a coder edits the suggestions file (accept, reject, recode, and an edit of the readable
``suggested`` column); ``suggest --decisions``; ``drift`` on codes written as paths; ``report`` of
that drift folder; ``export`` as REFI-QDA and ``import-qda`` back. Real static model, small data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from themeassist.cli import main
from themeassist.codebook import load_codebook, read_codes
from themeassist.mapping import read_decisions

CODEBOOK = """\
name: survey
themes:
  - name: words
    description: The words used in general.
  - name: change
    children:
      - name: words
      - name: tone
  - name: remove
    children: [{name: words}, {name: sentence}]
  - name: add
    description: Something should be added.
    children: [{name: example}, {name: sentence}]
  - name: Care received
    children: [{name: Care received}, {name: Activities}]
"""

# the theme of each comment, written as its full path (drift reads these), and as a coder wrote
# the examples: names where they are unique, paths elsewhere, the parent alone for "add"
TEXTS = {
    ("words", "words"): ["The wording is confusing", "Some words are unclear", "I did not understand the words used",
                         "Odd choice of words"],
    ("change > words", "change > words"): [
        "Please change the words in question 3", "Change the wording to plain English",
        "Replace these words with simpler ones", "Swap the jargon words for everyday ones"],
    ("change > tone", "Change>Tone"): ["Make the tone friendlier", "The tone feels cold, change it",
                                       "Soften the tone of the letter", "A warmer tone would help"],
    ("remove > words", "remove > words"): ["Remove the extra words", "Cut unnecessary words",
                                           "Delete the filler words", "Too many words, drop some"],
    ("remove > sentence", "Remove > Sentence"): ["Remove the last sentence", "Delete the second sentence",
                                                 "That sentence should go", "Drop the opening sentence"],
    ("add", "add"): ["Add more", "Please add something", "It needs more", "More should be added"],
    ("add > example", "example"): ["Add an example", "An example would help", "Give an example of use",
                                   "Include a worked example"],
    ("Care received > Care received", "Care received"): [
        "The care I received was good", "Care received was excellent", "Happy with my care", "Good care overall"],
    ("Care received > Activities", "Activities"): ["More activities please", "The activities were fun",
                                                   "Not enough activities", "Loved the art activities"],
}


def _cli(*argv: str) -> None:
    assert main(list(argv)) == 0, argv


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("roundtrip")
    (d / "codebook.yaml").write_text(CODEBOOK, encoding="utf-8")
    rows, examples = [], []
    for (path, written), texts in TEXTS.items():
        for k, text in enumerate(texts):
            doc = f"c{len(rows) + 1:02d}"
            rows.append({"id": doc, "text": text, "year": 2020 + k % 2, "codes": path})
            if k < 3:
                examples.append({"text": text, "codes": written})
    examples.append({"text": "N/A", "codes": "words"})  # kept, not used (a non-answer)
    pd.DataFrame(rows).to_csv(d / "coded.csv", index=False)
    pd.DataFrame(rows).drop(columns="codes").to_csv(d / "comments.csv", index=False)
    pd.DataFrame(examples).to_csv(d / "examples.csv", index=False)
    return {"dir": d, "codebook": d / "codebook.yaml", "coded": d / "coded.csv", "comments": d / "comments.csv",
            "examples": d / "examples.csv", "cache": d / "cache"}


@pytest.fixture(scope="module")
def suggested(files: dict[str, Path]) -> pd.DataFrame:
    out = files["dir"] / "suggestions.csv"
    with pytest.warns(UserWarning) as record:
        _cli("suggest", str(files["comments"]), "--codebook", str(files["codebook"]), "--text-col", "text",
             "--id-col", "id", "--examples", str(files["examples"]), "--model", "static", "--cache-dir",
             str(files["cache"]), "--regime", "few-shot", "--quiet", "--out", str(out))
    notes = [str(w.message) for w in record]
    assert any("1 of 28 rows are kept but not used" in n for n in notes)
    assert any("'Care received' names both 'Care received' (id 'care-received')" in n and "in 3 rows" in n
               for n in notes)
    return pd.read_csv(out, dtype=str, keep_default_na=False)


@pytest.mark.slow
def test_suggest_with_examples_written_as_names_or_paths(files, suggested) -> None:  # type: ignore[no-untyped-def]
    cb = load_codebook(files["codebook"])
    assert len(suggested) == sum(map(len, TEXTS.values()))
    ids = {t.theme_id for t in cb}
    assert all(set(filter(None, s.split("|"))) <= ids for s in suggested["suggested_ids"])
    assert [c for c in suggested.columns if c.startswith("score:")] == [f"score:{t.theme_id}" for t in cb]
    # the parent coded on its own is suggested, written as its own id and name; the readable
    # column reads back as the ids (paths where a name repeats)
    alone = suggested[suggested["text"].isin(TEXTS[("add", "add")][:3])]
    assert all(s.split("|")[0] == "add" for s in alone["suggested_ids"])
    assert all(s.split("|")[0] == "add" for s in alone["suggested"])
    assert [["|".join(x) for x in read_codes(suggested["suggested"], cb)]] == [suggested["suggested_ids"].tolist()]
    care = suggested[suggested["text"] == "Care received was excellent"].iloc[0]
    assert care["suggested_ids"].split("|")[0] == "care-received.care-received"
    assert care["suggested"].split("|")[0] == "Care received > Care received"


@pytest.fixture(scope="module")
def edited(files, suggested) -> tuple[Path, dict[str, str]]:  # type: ignore[no-untyped-def]
    table = suggested.copy()
    by_text = {t: i for i, t in enumerate(table["text"])}
    accept, reject = by_text["Please add something"], by_text["Remove the extra words"]
    recode = by_text["Soften the tone of the letter"]
    hand = next(i for i in range(len(table)) if "care-received.activities" not in table.loc[i, "suggested_ids"]
                and i not in (accept, reject, recode))
    table.loc[[accept, reject, recode, hand], "decision"] = ["accept", "reject", "recode", "accept"]
    table.loc[recode, "final_codes"] = "remove > words|Tone"
    table.loc[hand, "suggested"] = "Activities"  # the coder overwrote the readable codes
    path = files["dir"] / "suggestions_edited.csv"
    table.to_csv(path, index=False)
    return path, {"accept": table.loc[accept, "doc_id"], "reject": table.loc[reject, "doc_id"],
                  "recode": table.loc[recode, "doc_id"], "hand": table.loc[hand, "doc_id"]}


@pytest.mark.slow
def test_coder_edits_are_read_by_id_and_refit(files, suggested, edited) -> None:  # type: ignore[no-untyped-def]
    path, rows = edited
    cb = load_codebook(files["codebook"])
    with pytest.warns(UserWarning, match=rf"no longer matches 'suggested_ids' in 1 row .*doc_id '{rows['hand']}'"):
        ex = read_decisions(path, codebook=cb).set_index("doc_id")
    ids = suggested.set_index("doc_id")["suggested_ids"]
    assert ex.loc[rows["accept"], "codes"] == ids[rows["accept"]]
    assert (ex.loc[rows["reject"], "codes"], ex.loc[rows["reject"], "negative_codes"]) == ("", ids[rows["reject"]])
    assert ex.loc[rows["recode"], "codes"] == "remove.words|change.tone"
    assert ex.loc[rows["hand"], "codes"] == "care-received.activities"
    out = files["dir"] / "suggestions_round2.csv"
    _cli("suggest", str(files["comments"]), "--codebook", str(files["codebook"]), "--text-col", "text",
         "--id-col", "id", "--examples", str(files["examples"]), "--decisions", str(path), "--model", "static",
         "--cache-dir", str(files["cache"]), "--quiet", "--out", str(out))
    again = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert again["doc_id"].tolist() == suggested["doc_id"].tolist()


@pytest.mark.slow
def test_drift_on_paths_report_and_refi_round_trip(files) -> None:  # type: ignore[no-untyped-def]
    cb = load_codebook(files["codebook"])
    coded = pd.read_csv(files["coded"], dtype=str, keep_default_na=False)
    drift_dir = files["dir"] / "drift"
    _cli("drift", str(files["coded"]), "--period-col", "year", "--codes-col", "codes", "--codebook",
         str(files["codebook"]), "--out", str(drift_dir))
    prev = pd.read_csv(drift_dir / "prevalence.csv", dtype={"period": str}, keep_default_na=False)
    got = prev.set_index(["period", "theme_id"])["n_theme"]
    # worked out by hand: 4 comments per theme, alternating years -> 2 per theme and year
    for tid in ("words", "change.words", "remove.words", "add.example", "care-received.care-received"):
        assert got[("2020", tid)] == 2 and got[("2021", tid)] == 2, tid
    # parents roll up ('add' coded on its own twice a year, and 'add > example' twice)
    assert got[("2020", "change")] == 4 and got[("2020", "care-received")] == 4 and got[("2021", "add")] == 4
    assert got[("2020", "remove.sentence")] == 2 and got[("2020", "add.sentence")] == 0
    report = files["dir"] / "report.html"
    _cli("report", str(drift_dir), "--out", str(report))
    html = report.read_text(encoding="utf-8")
    assert "Activities" in html and "Care received" in html
    # REFI-QDA: export the coded comments, import them back
    qdpx = files["dir"] / "survey.qdpx"
    _cli("export", str(files["coded"]), "--codebook", str(files["codebook"]), "--text-col", "text", "--id-col", "id",
         "--codes-col", "codes", "--format", "qdpx", "--out", str(qdpx))
    back_csv, back_yaml = files["dir"] / "back.csv", files["dir"] / "back.yaml"
    _cli("import-qda", str(qdpx), "--out", str(back_csv), "--codebook-out", str(back_yaml))
    back_cb = load_codebook(back_yaml)
    assert [(t.theme_id, t.path) for t in back_cb] == [(t.theme_id, t.path) for t in cb]
    back = pd.read_csv(back_csv, dtype=str, keep_default_na=False).set_index("doc_id")
    original = dict(zip(coded["id"], read_codes(coded["codes"], cb)))
    assert {d: read_codes([back.loc[d, "codes"]], back_cb)[0] for d in original} == original
    assert {d: back.loc[d, "theme_ids"].split("|") for d in original} == original
    assert not re.search(r"ambiguous", back_csv.read_text(encoding="utf-8"))
