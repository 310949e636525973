"""Redaction: every kind on hand-made examples, the false positives it must leave alone, counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from themeassist.corpus import load_corpus
from themeassist.exceptions import CorpusError, ParameterError
from themeassist.redact import REDACTION_KINDS, nhs_number_is_valid, redact


def one(text: str, **kw) -> str:  # type: ignore[no-untyped-def]
    out, _ = redact([text], **kw)
    return out[0]


@pytest.mark.parametrize("number, valid", [
    ("9434765919", True),       # 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 % 11 = 2; 11-2 = 9
    ("943 476 5919", True), ("943-476-5919", True),
    ("9434765918", False),      # wrong check digit
    ("4010232137", True),       # 4*10+0+1*8+0+2*6+3*5+2*4+1*3+3*2 = 92; 92 % 11 = 4; 11-4 = 7
    ("4010232138", False),
    ("1000000001", True),       # 1*10 = 10; 10 % 11 = 10; 11-10 = 1
    ("0000000000", False),      # all one digit: refused
    ("943476591", False), ("94347659190", False),
])  # fmt: skip
def test_nhs_check_digit(number: str, valid: bool) -> None:
    assert nhs_number_is_valid(number) is valid


def test_nhs_number_with_check_digit_ten_is_invalid() -> None:
    # 2000000000 prefix: 2*10 = 20, 20 % 11 = 9, 11 - 9 = 2 -> valid only with last digit 2
    assert nhs_number_is_valid("2000000002")
    # 1*10 + 0 + ... + 1*2 (digit 9 = 1): 12 % 11 = 1, 11 - 1 = 10 -> never valid
    assert not any(nhs_number_is_valid(f"100000001{d}") for d in range(10))


@pytest.mark.parametrize("text, expected", [
    ("my NHS number is 943 476 5919.", "my NHS number is [NHS_NUMBER]."),
    ("943-476-5919", "[NHS_NUMBER]"),
    ("ref 9434765919 thanks", "ref [NHS_NUMBER] thanks"),
    ("ref 943 476 5918 thanks", "ref 943 476 5918 thanks"),  # bad check digit: left alone
    ("943 4765919", "943 4765919"),                            # inconsistent separators: not an NHS number
])  # fmt: skip
def test_nhs_numbers(text: str, expected: str) -> None:
    assert one(text, kinds=["nhs_number"]) == expected


@pytest.mark.parametrize("text, expected", [
    ("ring 07700 900123 please", "ring [PHONE] please"),
    ("ring 07700900123", "ring [PHONE]"),
    ("020 7946 0958", "[PHONE]"),
    ("+44 (0)20 7946 0958.", "[PHONE]."),
    ("+447700900123", "[PHONE]"),
    ("0044 161 496 0000", "[PHONE]"),
    ("(01632) 960 001", "[PHONE]"),
    ("0161-496-0000 or 0161.496.0000", "[PHONE] or [PHONE]"),
    ("0800 123 4567 free", "[PHONE] free"),
    ("call 07700 900123 2019 times", "call [PHONE] 2019 times"),  # the trailing number is kept
])  # fmt: skip
def test_uk_phone_numbers(text: str, expected: str) -> None:
    assert one(text, kinds=["phone"]) == expected


@pytest.mark.parametrize("text", [
    "PHQ-9 was 18 and GAD-7 was 12 in 2019",
    "I am a band 6 nurse, band 7 next year",
    "on 01/02/2020 at 07:30, 0.5 mg twice",
    "scores 0 1 2 3 4 5 6 7 8 9 10",
    "waited 12345678901 seconds",          # 11 digits without a leading 0
    "2019-2020 and 2020/21 and 100,000",
    "B12 injection, covid19 jab, 1.5 years, 24/7 service",
    "ref 0123",                            # too short for a phone number
    "ratio 0.25 and 007",
])  # fmt: skip
def test_false_positives_are_left_alone(text: str) -> None:
    out, counts = redact([text])
    assert out[0] == text
    assert counts["n"].sum() == 0


@pytest.mark.parametrize("text, expected", [
    ("live at SW1A 1AA now", "live at [POSTCODE] now"),
    ("sw1a1aa", "[POSTCODE]"),
    ("M1 1AE, B33 8TH, CR2 6XH, DN55 1PT, EC1A 1BB, W1A 0AX", ", ".join(["[POSTCODE]"] * 6)),
    ("GIR 0AA", "[POSTCODE]"),
    ("Q1 1AA", "Q1 1AA"),   # Q never starts a postcode
    ("SW1A 1CA", "SW1A 1CA"),  # C is never an inward letter
])  # fmt: skip
def test_postcodes(text: str, expected: str) -> None:
    assert one(text, kinds=["postcode"]) == expected


@pytest.mark.parametrize("text, expected", [
    ("mail me: jo.bloggs+work@nhs.net.", "mail me: [EMAIL]."),
    ("A@B.CO.UK and x_y@example.org", "[EMAIL] and [EMAIL]"),
    ("@handle and a@b", "@handle and a@b"),  # no domain: left alone
])  # fmt: skip
def test_emails(text: str, expected: str) -> None:
    assert one(text, kinds=["email"]) == expected


@pytest.mark.parametrize("text, expected", [
    ("see https://www.nhs.uk/talk?x=1, it helped", "see [URL], it helped"),
    ("(www.example.com)", "([URL])"),
    ("nhs.uk/conditions/depression was useful", "[URL] was useful"),
    ("http://user@host.org/a also mail@host.org", "[URL] also [EMAIL]"),
    ("e.g. this and i.e. that; 3.5/5 stars", "e.g. this and i.e. that; 3.5/5 stars"),
])  # fmt: skip
def test_urls(text: str, expected: str) -> None:
    assert one(text) == expected


def test_names_whole_words_any_case_longest_first() -> None:
    text = "Dr  jo SMITH was kind; Jo's team too, but not Joanne or Sarahs; sarah was great"
    out = one(text, names=["Jo", "Dr Jo Smith", "Sarah"], kinds=["name"])
    assert out == "[NAME] was kind; [NAME]'s team too, but not Joanne or Sarahs; [NAME] was great"


def test_names_do_not_touch_tokens_and_regex_characters_are_literal() -> None:
    out = one("Email jo@x.org, Email. A.B. was here (c++), not AxB", names=["Email", "A.B.", "c++"])
    assert out == "[NAME] [EMAIL], [NAME]. [NAME] was here ([NAME]), not AxB"


def test_counts_and_corpus_input_keep_rows_index_and_attrs() -> None:
    df = pd.DataFrame({
        "comment": ["Sarah rang 07700 900123 and 020 7946 0958", np.nan, 5, "fine", "jo@x.com, 943 476 5919"],
        "year": [2020, 2020, 2021, 2021, 2021],
    })  # fmt: skip
    corpus = load_corpus(df, text_col="comment", period_col="year")
    out, counts = redact(corpus, names=["sarah"])
    assert len(out) == len(corpus) and out.index.equals(corpus.index)
    assert out["text"].tolist() == ["[NAME] rang [PHONE] and [PHONE]", "", "", "fine", "[EMAIL], [NHS_NUMBER]"]
    assert out["status"].tolist() == corpus["status"].tolist()
    assert corpus["text"][0].startswith("Sarah")  # input not modified
    assert counts.columns.tolist() == ["kind", "token", "n", "n_docs"]
    assert counts.set_index("kind")[["n", "n_docs"]].to_dict("index") == {
        "email": {"n": 1, "n_docs": 1}, "phone": {"n": 2, "n_docs": 1}, "nhs_number": {"n": 1, "n_docs": 1},
        "postcode": {"n": 0, "n_docs": 0}, "url": {"n": 0, "n_docs": 0}, "name": {"n": 1, "n_docs": 1},
    }  # fmt: skip
    assert out.attrs["redaction"]["phone"] == 2 and out.attrs["period_kind"] == corpus.attrs["period_kind"]


def test_series_non_strings_and_columns() -> None:
    s = pd.Series(["a@b.com", None, 3.5], index=[10, 11, 12])
    out, counts = redact(s, kinds=["email"])
    assert out.index.tolist() == [10, 11, 12] and out[10] == "[EMAIL]" and out[11] is None and out[12] == 3.5
    assert counts.values.tolist() == [["email", "[EMAIL]", 1, 1]]
    df = pd.DataFrame({"text": ["x"], "note": ["call 07700 900123"]})
    out, _ = redact(df, columns=["note"])
    assert out["note"][0] == "call [PHONE]" and out["text"][0] == "x"


def test_bad_arguments_say_what_to_do() -> None:
    with pytest.raises(ParameterError, match=r"unknown kind\(s\) \['phones'\]"):
        redact(["x"], kinds=["phones"])
    with pytest.raises(CorpusError, match=r"redact: the table lacks column 'comment' \(columns: 'text'\)\. Pass columns="):
        redact(pd.DataFrame({"text": ["x"]}), columns=["comment"])
    with pytest.raises(CorpusError, match=r"not one string \(for one text: redact\(\[text\]\)\)"):
        redact("a@b.com")
    assert redact(["a@b.com"])[0].tolist() == ["[EMAIL]"]  # the fix the message gives works
    with pytest.raises(ParameterError, match="names must be strings"):
        redact(["x"], names=[1])
    assert set(REDACTION_KINDS) == {"email", "phone", "nhs_number", "postcode", "url", "name"}
