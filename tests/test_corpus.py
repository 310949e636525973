"""Tests for themeassist.corpus (load_corpus, substantive) and the date reading in _dates."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

from themeassist.corpus import (
    CORPUS_COLUMNS,
    DEFAULT_NON_ANSWERS,
    STATUSES,
    clean_text,
    load_corpus,
    substantive,
)
from themeassist.exceptions import CorpusError


def _load(source, **kw):
    """load_corpus with its warnings captured: (corpus, [warning messages])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        corpus = load_corpus(source, **kw)
    return corpus, [str(w.message) for w in caught]


def _csv(tmp_path: Path, text: str, name: str = "c.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- statuses and text


def test_each_status_text_and_reason():
    df = pd.DataFrame(
        {"c": ["  Great\tstaff\r\nthanks ", None, "   ", 42, "3.5", "Did not answer", "x" * 30, "Nothing"]}
    )
    corpus, warned = _load(df, text_col="c", max_chars=25)
    assert list(corpus.columns) == list(CORPUS_COLUMNS)
    assert corpus["status"].tolist() == [
        "ok", "missing", "empty", "non_text", "non_text", "non_answer", "truncated", "ok",
    ]  # fmt: skip
    assert set(corpus["status"]) <= set(STATUSES)
    # a number is no text (blank, as a phone number in a numeric cell is never written out); its reason says what it was
    assert corpus["text"].tolist() == ["Great staff\nthanks", "", "", "", "", "Did not answer", "x" * 25, "Nothing"]
    assert corpus["doc_id"].tolist() == [str(i) for i in range(8)]
    assert corpus["row"].tolist() == list(range(8))
    assert corpus.loc[0, "reason"] == ""
    assert corpus.loc[3, "reason"] == "value 42 is a number, not text"
    assert corpus.loc[5, "reason"] == "text is the non-answer 'Did not answer'"
    assert corpus.loc[6, "reason"] == "text cut from 30 to 25 characters (max_chars)"
    assert corpus["period"].isna().all() and corpus["date"].isna().all()
    # the 7th row (position 6, doc_id '6') is cut: messages count rows from 1, default doc_ids from 0
    assert warned == corpus.attrs["warnings"] and "(rows 7; doc_ids 6)" in warned[0]
    assert substantive(corpus)["row"].tolist() == [0, 6, 7]


def test_clean_text_collapses_control_characters():
    assert clean_text("a\x00b\u200b c\x1f\n\n\n\nd  \u00a0e") == "a b c\n\nd e"


def test_fifty_thousand_char_comment_is_truncated_and_kept():
    corpus, warned = _load(pd.DataFrame({"c": ["ok text", "y" * 50_000]}), text_col="c")
    assert corpus["status"].tolist() == ["ok", "truncated"]
    assert len(corpus.loc[1, "text"]) == 20_000
    assert corpus.loc[1, "reason"] == "text cut from 50,000 to 20,000 characters (max_chars)"
    assert len(substantive(corpus)) == 2
    assert any("1 comments longer than 20,000" in w for w in warned)


def test_non_answers_default_custom_and_disabled():
    texts = ["Nothing", "N/A.", "  did NOT answer!", "...", "None", "no", "Nothing to add."]
    df = pd.DataFrame({"c": texts})
    assert "nothing" not in DEFAULT_NON_ANSWERS
    default = load_corpus(df, text_col="c")["status"].tolist()
    assert default == ["ok", "non_answer", "non_answer", "non_answer", "non_answer", "ok", "non_answer"]
    custom = load_corpus(df, text_col="c", non_answers=["no", "Nothing"])["status"].tolist()
    assert custom == ["non_answer", "ok", "ok", "ok", "ok", "non_answer", "ok"]
    assert (load_corpus(df, text_col="c", non_answers=())["status"] == "ok").all()


def test_ids_metadata_and_reserved_names():
    df = pd.DataFrame({"id": [10.0, 11.0], "c": ["a b", "c d"], "status": ["x", "y"], "site": ["A", "B"]})
    corpus, warned = _load(df, text_col="c", id_col="id")
    assert corpus["doc_id"].tolist() == ["10", "11"]
    assert list(corpus.columns) == [*CORPUS_COLUMNS, "status_input", "site"]
    assert corpus["status_input"].tolist() == ["x", "y"] and "kept as 'status_input'" in warned[0]


# ---------------------------------------------------------------- errors


def test_duplicate_ids_name_ids_and_rows():
    df = pd.DataFrame({"id": ["a", "b", "a", "c", "b", "a"], "c": list("uvwxyz")})
    with pytest.raises(CorpusError, match=r"2 duplicated ids: 'a' \(rows 1, 3, 6\); 'b' \(rows 2, 5\)"):
        load_corpus(df, text_col="c", id_col="id")


def test_missing_column_suggests_close_match():
    df = pd.DataFrame({"id": [1], "text": ["hello there"], "wave": [1]})
    msg = "load_corpus: column 'txt' not found (columns: 'id', 'text', 'wave'). Pass text_col='text'?"
    with pytest.raises(CorpusError, match=re.escape(msg)):
        load_corpus(df, text_col="txt")
    with pytest.raises(CorpusError, match=re.escape("Pass text_col='text'?")):  # no close name: most text-like
        load_corpus(df, text_col="comment")
    with pytest.raises(CorpusError, match=re.escape("column 'Wave' not found") + ".*period_col='wave'"):
        load_corpus(df, text_col="text", period_col="Wave")


def test_numbers_only_text_column_raises_and_points_to_text_column():
    df = pd.DataFrame({"score": [1, 2, None], "comment": ["Kind staff", "Long wait", "ok"]})
    with pytest.raises(CorpusError, match=r"'score' holds no text \(2 non_text, 1 missing\).*'comment'"):
        load_corpus(df, text_col="score")


def test_file_errors(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope.csv", text_col="c")
    with pytest.raises(CorpusError, match=r"empty \(0 bytes\)"):
        load_corpus(_csv(tmp_path, ""), text_col="c")
    with pytest.raises(CorpusError, match="but no rows"):
        load_corpus(_csv(tmp_path, "id,c\n", "h.csv"), text_col="c")
    with pytest.raises(CorpusError, match="with delimiter ','.*line 3"):
        load_corpus(_csv(tmp_path, "id,c\n1,fine\n2,bad, unquoted\n", "b.csv"), text_col="c")


@pytest.mark.parametrize("data", [
    "comment\r\n,0\r\nkind, yes\r\n",           # found by hypothesis: written with sep=';'
    "comment\nfine\nslow, but kind\nyes; really\n\"quoted, \"\"with\"\" quotes\"\n",
    "comment\na,b\nc,d\n",                       # commas in every row: still text, not columns
])  # fmt: skip
def test_a_header_no_delimiter_splits_is_a_one_column_file(tmp_path, data):
    corpus = load_corpus(_csv(tmp_path, data), text_col="comment")
    lines = [ln for ln in data.replace("\r\n", "\n").split("\n")[1:] if ln]
    expected = [ln.strip('"').replace('""', '"') for ln in lines]
    assert corpus["text"].tolist() == expected
    assert corpus["row"].tolist() == list(range(len(expected)))
    assert corpus.attrs["delimiter"] not in "".join(expected)  # nothing in the text was split on


# ---------------------------------------------------------------- files


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_encodings(tmp_path, encoding):
    text = "id;comment\n1;Café – “très” bien, naïve\n2;£5 parking\n"
    corpus, warned = _load(_csv(tmp_path, text, encoding=encoding), text_col="comment", id_col="id")
    assert corpus["text"].tolist() == ["Café – “très” bien, naïve", "£5 parking"]
    assert corpus["doc_id"].tolist() == ["1", "2"] and warned == []
    assert (corpus.attrs["encoding"], corpus.attrs["delimiter"]) == (encoding, ";")


def test_mixed_encoding_decoded_per_line_and_reported(tmp_path):
    data = "c\nnaïve utf8\n".encode() + "café cp1252\n".encode("cp1252") + b"plain\n"
    corpus, warned = _load(_csv_bytes(tmp_path, data), text_col="c")
    assert corpus["text"].tolist() == ["naïve utf8", "café cp1252", "plain"]
    assert len(warned) == 1 and "mixes encodings" in warned[0] and "file lines 3" in warned[0]
    assert corpus.attrs["encoding"] == "utf-8 with cp1252 lines"


def _csv_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "m.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path, sep):
    rows = [["id", "comment", "year"], ["a1", '"Slow, but kind"', "2014"], ["a2", "Fine", "2015"]]
    path = _csv(tmp_path, "\n".join(sep.join(r) for r in rows) + "\n")
    corpus = load_corpus(path, text_col="comment", id_col="id", period_col="year")
    assert corpus["text"].tolist() == ["Slow, but kind", "Fine"]
    assert corpus["period"].tolist() == ["2014", "2015"]
    assert corpus["year"].tolist() == [2014, 2015]  # CSV metadata: numbers when clean


def test_xlsx_and_parquet_round_trip(tmp_path):
    df = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "comment": ["Kind nurse", "N/A", 7],
            "when": pd.to_datetime(["2021-01-05", "2021-08-30", "2022-03-01"]),
            "site": ["A", "B", None],
        }
    )
    for path in (tmp_path / "c.xlsx", tmp_path / "c.parquet"):
        if path.suffix == ".xlsx":
            df.to_excel(path, index=False)
        else:  # parquet columns have one type: the number is stored as text
            df.assign(comment=df["comment"].astype(str)).to_parquet(path)
        corpus = load_corpus(path, text_col="comment", id_col="id", period_col="when")
        assert corpus["doc_id"].tolist() == ["1", "2", "3"]
        assert corpus["status"].tolist() == ["ok", "non_answer", "non_text"]
        assert corpus["period"].tolist() == ["2021Q1", "2021Q3", "2022Q1"]  # span > 1 year: quarters
        assert corpus["date"].tolist() == list(df["when"])
        assert corpus["site"].tolist()[:2] == ["A", "B"] and pd.isna(corpus["site"].iloc[2])


# ---------------------------------------------------------------- periods


def test_year_ints_and_labels():
    df = pd.DataFrame({"c": ["a b"] * 4, "y": [2014, None, 2016, 2016], "w": ["2021Q3", "Wave 2", "2021Q3", None]})
    years, warned = _load(df, text_col="c", period_col="y")
    assert years["period"].tolist() == ["2014", None, "2016", "2016"]
    assert years.attrs["period_kind"] == "year" and years["date"].isna().all()
    assert years.loc[1, "reason"] == "no value in period column 'y'" and "(rows 2)" in warned[0]
    labels, _ = _load(df, text_col="c", period_col="w")
    assert labels["period"].tolist() == ["2021Q3", "Wave 2", "2021Q3", None]
    assert labels.attrs["period_kind"] == "label"


def test_year_strings_in_csv(tmp_path):
    corpus = load_corpus(_csv(tmp_path, "c,y\nhello,2014\nbye,2015\n"), text_col="c", period_col="y")
    assert corpus["period"].tolist() == ["2014", "2015"] and corpus.attrs["period_kind"] == "year"


def _dated(dates: list[str], ids: list[str] | None = None) -> pd.DataFrame:
    df = pd.DataFrame({"c": [f"comment {i}" for i in range(len(dates))], "d": dates})
    if ids is not None:
        df.insert(0, "id", ids)
    return df


def test_day_first_column_is_detected():
    corpus, warned = _load(_dated(["03/04/2021", "25/12/2021", "01/02/2022"]), text_col="c", period_col="d")
    assert corpus["date"].dt.strftime("%Y-%m-%d").tolist() == ["2021-04-03", "2021-12-25", "2022-02-01"]
    assert corpus["period"].tolist() == ["2021-04", "2021-12", "2022-02"]  # span < 1 year: months
    assert warned == []
    assert [(b["order"], b["n_rows"], b["n_proved"]) for b in corpus.attrs["date_blocks"]] == [("dmy", 3, 1)]


def test_month_first_column_is_detected():
    corpus = load_corpus(_dated(["03/04/2021", "12/25/2021", "1/2/2022"]), text_col="c", period_col="d")
    assert corpus["date"].dt.strftime("%Y-%m-%d").tolist() == ["2021-03-04", "2021-12-25", "2022-01-02"]


def test_month_first_block_inside_day_first_file():
    # rows 1-4 day-first (site "A"), rows 5-8 month-first (site "B"), row 9 day-first again
    # (date_blocks keep 0-based positions: 0-3, 4-7, 8; messages count rows from 1)
    dates = ["13/01/2021", "02/03/2021", "05/06/2021", "20/07/2021",
             "03/04/2021", "08/15/2021", "09/10/2021", "10/31/2021", "11/12/2021"]  # fmt: skip
    ids = ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "A5"]
    corpus, warned = _load(_dated(dates, ids), text_col="c", id_col="id", period_col="d", period_freq="M")
    got = corpus["date"].dt.strftime("%m-%d").tolist()
    assert got == ["01-13", "03-02", "06-05", "07-20", "03-04", "08-15", "09-10", "10-31", "12-11"]
    assert corpus["period"].tolist()[4:6] == ["2021-03", "2021-08"]
    assert [(b["order"], b["first_row"], b["last_row"], b["key"]) for b in corpus.attrs["date_blocks"]] == [
        ("dmy", 0, 3, "A"), ("mdy", 4, 7, "B"), ("dmy", 8, 8, "A"),
    ]  # fmt: skip
    # row 9 ('11/12/2021') proves nothing and starts a new run: it takes the order proved for site A
    assert len(warned) == 2 and "(rows 9) lie in blocks where no date proves" in warned[0]
    assert "rows 5–8 (4 rows, block 'B', e.g. row 6 '08/15/2021')" in warned[1]
    assert "read month-first (m/d/Y) like its block (rows 5–8)" in corpus.loc[4, "reason"]
    # without ids the first B row (row 5) sits between proved day-first and month-first rows: not guessed
    blind, warned = _load(_dated(dates), text_col="c", period_col="d", period_freq="M")
    assert blind["period"].isna().tolist() == [False] * 4 + [True] + [False] * 4
    assert blind.loc[4, "reason"].startswith("day/month order unknown for period value '03/04/2021'")
    assert any("cannot be worked out (rows 5; 1 lie between" in w for w in warned)


def test_all_ambiguous_dates_are_not_guessed_unless_told():
    df = _dated(["03/04/2021", "05/06/2021", "07/07/2021"])
    corpus, warned = _load(df, text_col="c", period_col="d", period_freq="M")
    assert corpus["period"].tolist() == [None, None, "2021-07"]  # 07/07 reads the same either way
    assert "(rows 1–2); 2 have no period. Pass dayfirst=" in warned[-1]
    yearly, warned = _load(df, text_col="c", period_col="d", period_freq="Y")
    assert "0 have no period and 2 keep one that both readings share" in warned[-1]
    assert yearly["period"].tolist() == ["2021", "2021", "2021"]  # both readings fall in 2021
    assert yearly["date"].isna().tolist() == [True, True, False]
    told = load_corpus(df, text_col="c", period_col="d", dayfirst=False, period_freq="M")
    assert told["period"].tolist() == ["2021-03", "2021-05", "2021-07"]


def test_explicit_date_format_is_honoured_exactly():
    df = _dated(["2021-03-04", "04/03/2021", "2022-12-31", "soon"])
    corpus, warned = _load(df, text_col="c", period_col="d", date_format="%Y-%m-%d", period_freq="Q")
    assert corpus["period"].tolist() == ["2021Q1", None, "2022Q4", None]
    assert corpus.loc[1, "reason"] == "period value '04/03/2021' does not match date_format '%Y-%m-%d'"
    assert corpus["status"].tolist() == ["ok"] * 4  # the comment itself is still usable
    assert any("2 values in period column 'd' could not be read as dates (rows 2, 4" in w for w in warned)


def test_dates_with_iso_month_names_and_bad_values():
    df = _dated(["2021-03-04", "5 March 2021", "31/02/2021", "not a date", "2021-03-05 10:30"])
    corpus, warned = _load(df, text_col="c", period_col="d", period_freq="W")
    assert corpus["period"].tolist() == ["2021-W09", "2021-W09", None, None, "2021-W09"]
    assert corpus.loc[2, "reason"] == "period value '31/02/2021' is not a valid day-first (d/m/Y) date"
    assert corpus.loc[3, "reason"] == "period value 'not a date' is not a date"
    assert len(corpus) == 5 and any("(rows 3–4;" in w for w in warned)


def test_auto_period_freq_by_span():
    assert load_corpus(_dated(["2010-01-01", "2015-06-01"]), text_col="c", period_col="d")["period"].tolist() == [
        "2010", "2015",
    ]  # fmt: skip
    assert load_corpus(_dated(["2021-01-01", "2022-06-01"]), text_col="c", period_col="d").attrs["period_freq"] == "Q"


def test_warning_points_at_caller():
    with pytest.warns(UserWarning) as record:
        load_corpus(pd.DataFrame({"c": ["x y"], "y": [None]}), text_col="c", period_col="y")
    assert record[0].filename == __file__


# ---------------------------------------------------------------- the real NHS file


@pytest.mark.needs_data
def test_nhs_month_first_block_is_detected_and_read_month_first(nhs_v6_csv):
    corpus, warned = _load(nhs_v6_csv, text_col="FFT answer", id_col="Comment ID", period_col="Date")
    assert len(corpus) == 7908 and corpus["period"].notna().all()
    mdy = [b for b in corpus.attrs["date_blocks"] if b["order"] == "mdy"]
    # rows 3796-4298 (positions 3795-4297 in date_blocks): a "NEAS S&C" export written m/d/Y (286 rows
    # prove it, 215 would misread silently)
    assert [(b["first_row"], b["last_row"], b["n_proved"]) for b in mdy] == [(3795, 4297, 286), (7886, 7888, 3)]
    assert any("rows 3796–4298 (503 rows" in w for w in warned)
    date = corpus.set_index("doc_id")["date"].dt.strftime("%Y-%m-%d")
    assert date["NEAS S&C 2352 - Q2"] == "2021-10-17"  # '10/17/2021'
    assert date["NEAS S&C 2182 - Q2"] == "2021-10-03"  # '10/03/2021', not 10 March
    assert date["NEAS S&C 3687 - Q1"] == "2022-03-09"  # '03/09/2022', not 3 September
    assert date["NEAS S&C 2182 - Q1"] == "2021-10-03"  # the same respondent's other answer: '03/10/2021'
    assert date["NEAS PTS 528 - Q1"] == "2021-09-30"  # day-first block: '30/09/2021'
    # every m/d row whose respondent also answered in a d/m block gets the same date
    num = corpus["doc_id"].str.extract(r"^(NEAS S&C \d+)")[0]
    in_block = corpus.index.isin(range(3795, 4298))
    twins = pd.merge(
        corpus[in_block].assign(num=num), corpus[~in_block & num.notna()].assign(num=num), on="num"
    )
    assert len(twins) == 502 and (twins["date_x"] == twins["date_y"]).all()


def test_a_date_format_no_date_can_match_is_refused_before_reading(tmp_path) -> None:
    from themeassist.cli import main
    from themeassist.exceptions import ParameterError

    df = pd.DataFrame({"c": ["late again", "kind staff"], "d": ["03/02/2024", "04/02/2024"]})
    for bad, why in (("%d-%q", "'q' is a bad directive"), ("week", "holds no date directive")):
        with pytest.raises(ParameterError, match=rf"date_format='{bad}'.*{why}.*date_format='%d/%m/%Y'"):
            load_corpus(df, text_col="c", period_col="d", date_format=bad)
    assert load_corpus(df, text_col="c", period_col="d", date_format="%d/%m/%Y")["period"].notna().all()
    from themeassist.corpus import _check_date_format

    for fine in ("%Y-%m-%dT%H:%M:%S%z", "%d/%m/%Y %Z", "%Y%m%d", "%b %Y"):  # time zones round-trip imperfectly
        _check_date_format(fine)
    df.to_csv(tmp_path / "c.csv", index=False)
    assert main(["discover", str(tmp_path / "c.csv"), "--text-col", "c", "--period-col", "d", "--date-format",
                 "%d-%q", "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_the_text_column_hint_never_offers_an_id_column() -> None:
    ids = pd.DataFrame({"id": ["n1", "n2", "n3"], "text": ["1", "2", "3"]})
    with pytest.raises(CorpusError, match=r"holds no text \(3 non_text\)\. No column looks like text\.$"):
        load_corpus(ids, text_col="text")
    with pytest.raises(CorpusError, match=r"Pass text_col='answer'\?"):
        load_corpus(ids.assign(answer=["Good", "Fine", "Great"]), text_col="text")  # one word each, no digits


def test_a_one_row_date_block_is_named_in_the_singular() -> None:
    d = ["13/01/2021", "14/02/2021", "15/03/2021", "16/04/2021", "08/15/2021", "17/05/2021", "18/06/2021"]
    with pytest.warns(UserWarning) as record:
        load_corpus(pd.DataFrame({"t": ["a b"] * 7, "d": d}), text_col="t", period_col="d")
    msg = next(str(w.message) for w in record if "mixes day/month orders" in str(w.message))
    assert "but 1 in 1 block is month-first (m/d/Y)" in msg and ": row 5 (1 row, e.g. row 5 '08/15/2021')" in msg
