"""The command line, run in-process through ``main`` on real files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from themeassist.cli import build_parser, main
from themeassist.io import import_qdpx


@pytest.fixture()
def coded_csv(tmp_path: Path) -> Path:
    df = pd.DataFrame({
        "id": ["a1", "a2", "a3", "a4"],
        "comment": ["Targets everywhere, no time to think", "n/a", "My manager never listens to clinicians",
                    "We need more rooms"],
        "wave": [2014, 2014, 2015, 2015],
        "codes": ["The Failing Professional", "", "Misunderstood Practitioners", "Resources"],
    })
    path = tmp_path / "coded.csv"
    df.to_csv(path, index=False)
    return path


def test_every_documented_command_parses() -> None:
    parser = build_parser()
    for argv in (["discover", "x.csv", "--text-col", "t", "--out", "d"],
                 ["suggest", "x.csv", "--text-col", "t", "--codebook", "iapt", "--out", "o.csv"],
                 ["drift", "x.csv", "--period-col", "p", "--codes-col", "c", "--out", "d"],
                 ["report", "run", "--out", "r.html"], ["demo", "--out", "d"],
                 ["export", "x.csv", "--text-col", "t", "--codebook", "iapt", "--format", "qdc", "--out", "c.qdc"],
                 ["import-qda", "p.qdpx", "--out", "c.csv"], ["models", "build-static"]):
        assert callable(parser.parse_args(argv).func)


def test_export_qdpx_then_import_keeps_codes(coded_csv: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "study.qdpx"
    rc = main(["export", str(coded_csv), "--text-col", "comment", "--id-col", "id", "--period-col", "wave",
               "--codebook", "iapt", "--codes-col", "codes", "--format", "qdpx", "--out", str(out)])
    assert rc == 0 and out.is_file()
    codebook, coded = import_qdpx(out)
    assert len(codebook.leaves()) == 18
    by_id = dict(zip(coded.doc_id, coded.codes))
    assert by_id["a1"] == "The Failing Professional" and by_id["a4"] == "Resources"
    assert rc == 0
    csv_out = tmp_path / "coded_back.csv"
    assert main(["import-qda", str(out), "--out", str(csv_out)]) == 0
    back = pd.read_csv(csv_out, dtype=str, keep_default_na=False)
    assert set(back.doc_id) == {"a1", "a2", "a3", "a4"}
    # a codebook file (.qdc) writes its YAML too when asked
    assert main(["export", str(coded_csv), "--text-col", "comment", "--codebook", "iapt", "--format", "qdc", "--out",
                 str(tmp_path / "cb.qdc")]) \
        == 0
    assert main(["import-qda", str(tmp_path / "cb.qdc"), "--out", str(tmp_path / "cb.csv"), "--codebook-out",
                 str(tmp_path / "cb.yaml")]) == 0
    from themeassist import load_codebook

    assert [t.path for t in load_codebook(tmp_path / "cb.yaml").leaves()] == [t.path for t in codebook.leaves()]


def test_unknown_code_is_a_clear_error_naming_the_row(coded_csv: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    df = pd.read_csv(coded_csv)
    df.loc[2, "codes"] = "Resourcez"
    df.to_csv(coded_csv, index=False)
    rc = main(["export", str(coded_csv), "--text-col", "comment", "--id-col", "id", "--codebook", "iapt",
               "--codes-col", "codes", "--format", "qdpx", "--out", str(tmp_path / "x.qdpx")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "row 3 (doc_id 'a3')" in err and "Resourcez" in err  # the 3rd data row (sheet line 4)
    assert not (tmp_path / "x.qdpx").exists()


def test_missing_text_column_is_reported_without_traceback(coded_csv: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rc = main(["export", str(coded_csv), "--text-col", "text", "--codebook", "iapt", "--format", "qdpx",
               "--out", str(tmp_path / "x.qdpx")])
    err = capsys.readouterr().err
    assert rc == 2 and "'text' not found" in err and "comment" in err and "Traceback" not in err


def test_qdc_export_of_a_builtin_codebook(tmp_path: Path) -> None:
    from themeassist.io import import_qdc

    out = tmp_path / "iapt.qdc"
    assert main(["export", "unused.csv", "--text-col", "t", "--codebook", "iapt", "--format", "qdc",
                 "--out", str(out)]) == 0
    assert [t.name for t in import_qdc(out).leaves()][:2] == ["Professional Identity",
                                                              "Seeking Balance: Professional & Personal Identity"]


@pytest.mark.slow
def test_suggest_review_and_drift_end_to_end(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from themeassist.datasets import load_iapt_demo

    demo = load_iapt_demo()
    demo.loc[5, "text"] = demo.loc[5, "text"] + " Call me on 07700 900123 or jo@example.org"
    data = tmp_path / "demo.csv"
    demo.to_csv(data, index=False)
    coded = demo[demo.year == "2015"][["doc_id", "text", "themes"]]
    coded.to_csv(tmp_path / "coded.csv", index=False)
    out = tmp_path / "suggestions.csv"
    common = ["--model", "static", "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    rc = main(["suggest", str(data), "--codebook", "iapt", "--text-col", "text", "--id-col", "doc_id",
               "--examples", str(tmp_path / "coded.csv"), "--examples-codes-col", "themes", "--redact",
               "--out", str(out), *common])
    assert rc == 0
    s = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert s.doc_id.tolist() == demo.doc_id.tolist()  # one row per input row, in input order
    assert {"status", "suggested", "scores", "parents", "evidence", "decision", "final_codes"} <= set(s.columns)
    assert "[PHONE]" in s.text[5] and "[EMAIL]" in s.text[5] and "07700" not in s.text[5]
    assert "redacted before export: email 1, phone 1" in capsys.readouterr().err
    ok = s.status == "ok"
    assert (s.suggested[~ok] == "").all() and (s.suggested[ok] != "").mean() > 0.6
    # parents are rolled up from the suggested leaves
    first = s[ok & (s.suggested != "")].iloc[0]
    assert first.parents.split("|")[0] == "The Person behind the Professional: Health & Wellbeing"
    # the coder reviews: accepts everything for 2016; the file is taken back in as examples
    s.loc[demo.year == "2016", "decision"] = "accept"
    s.to_csv(tmp_path / "reviewed.csv", index=False)
    rc = main(["suggest", str(data), "--codebook", "iapt", "--text-col", "text", "--id-col", "doc_id",
               "--decisions", str(tmp_path / "reviewed.csv"), "--out", str(tmp_path / "again.xlsx"), *common])
    assert rc == 0 and len(pd.read_excel(tmp_path / "again.xlsx")) == len(demo)
    # drift on the suggestions file
    rc = main(["drift", str(out), "--period-col", "year", "--codebook", "iapt", "--out", str(tmp_path / "drift")])
    assert rc == 0
    prev = pd.read_csv(tmp_path / "drift" / "prevalence.csv")
    assert {"period", "theme", "parent", "n_comments", "n_theme", "prevalence", "ci_low", "ci_high",
            "method"} <= set(prev.columns)
    assert (prev.ci_low <= prev.prevalence + 1e-9).all() and (prev.prevalence <= prev.ci_high + 1e-9).all()
    assert (tmp_path / "drift" / "changes.csv").is_file()
    # the interactive figure next to the PNG/SVG ones: one file, plotly.js inlined, the codebook's themes in it
    fig = tmp_path / "drift" / "figures"
    assert (fig / "prevalence.png").is_file() and (fig / "prevalence.svg").is_file()
    assert "NOT ERROR-CORRECTED" in (tmp_path / "drift" / "summary.txt").read_text(encoding="utf-8")
    # the report of the drift folder embeds its figures
    assert main(["report", str(tmp_path / "drift"), "--out", str(tmp_path / "drift" / "report.html")]) == 0
    assert (tmp_path / "drift" / "report.html").read_text(encoding="utf-8").count("data:image/png;base64,") == 2
    page = (fig / "prevalence_interactive.html").read_text(encoding="utf-8")
    assert "Plotly.newPlot" in page and "<script src=" not in page and "The Failing Professional" in page


def test_every_command_takes_quiet(capsys) -> None:  # type: ignore[no-untyped-def]
    # a script passes --quiet to each step of a run (suggest, audit, drift, report, ...): none may refuse it
    names = ["discover", "suggest", "audit", "drift", "report", "demo", "export", "import-qda", "models", "cache"]
    for name in names:
        with pytest.raises(SystemExit):
            main([name, "--help"])
        assert "--quiet" in capsys.readouterr().out, name


def test_suggest_says_what_a_large_run_with_the_default_model_costs(coded_csv: Path, tmp_path: Path, capsys,
                                                                     monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from themeassist.cli import suggest as cli_suggest

    corpus = pd.DataFrame({"text": ["a"] * 5, "status": ["ok", "ok", "truncated", "empty", "ok"]})
    n = cli_suggest.substantive_rows(corpus)
    assert n == 4
    monkeypatch.setattr(cli_suggest, "MINILM_NOTE_ROWS", 3)
    note = cli_suggest.scale_note(argparse.Namespace(model=None), n)
    assert note is not None and "4 comments to embed with MiniLM" in note and "--model static" in note
    assert cli_suggest.scale_note(argparse.Namespace(model="static"), n) is None
    monkeypatch.setattr(cli_suggest, "MINILM_NOTE_ROWS", 4)
    assert cli_suggest.scale_note(argparse.Namespace(model="minilm"), n) is None  # not above the limit
    # through the command: the note goes to stderr before any work, and not with the static model
    monkeypatch.setattr(cli_suggest, "MINILM_NOTE_ROWS", 2)
    base = ["suggest", str(coded_csv), "--text-col", "comment", "--id-col", "id", "--codebook", "iapt", "--quiet"]
    assert main(base + ["--out", str(tmp_path / "s1.csv")]) == 0
    assert "3 comments to embed with MiniLM" in capsys.readouterr().err
    assert main(base + ["--model", "static", "--out", str(tmp_path / "s2.csv")]) == 0
    assert "to embed with MiniLM" not in capsys.readouterr().err


def test_codes_kept_in_the_comments_file_itself(tmp_path: Path) -> None:
    # one file: the coder has coded some comments and left the rest blank (not coded yet)
    df = pd.DataFrame({
        "id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "comment": ["We need more rooms and more staff", "Thank you for asking", "Targets everywhere, no time",
                    "Not enough rooms to see clients", "Nothing to add really", "My manager never listens"],
        "codes": ["Resources", "", "", "Resources", "", "Misunderstood Practitioners"],
    })
    path = tmp_path / "comments.csv"
    df.to_csv(path, index=False)
    run = ["suggest", str(path), "--text-col", "comment", "--id-col", "id", "--codebook", "iapt",
           "--examples-text-col", "comment", "--examples-codes-col", "codes", "--model", "static", "--quiet"]
    with pytest.warns(UserWarning, match=r"3 of 6 rows have no codes in column 'codes' \(rows 2, 3, 5\): read as "
                                         r"not coded yet"):
        assert main([*run, "--examples", str(path), "--out", str(tmp_path / "s.csv")]) == 0
    s = pd.read_csv(tmp_path / "s.csv", dtype=str, keep_default_na=False).set_index("doc_id")
    assert s.index.tolist() == df["id"].tolist()
    assert s.loc["c1", "example_codes"] != "" and s.loc["c4", "example_codes"] == s.loc["c1", "example_codes"]
    assert (s.loc[["c2", "c3", "c5"], "example_codes"] == "").all()  # not coded yet: suggested like any comment
    # a separate file of coded comments: there a blank row was coded with no theme
    df.iloc[[0, 1, 3, 5]].to_csv(tmp_path / "coded.csv", index=False)
    with pytest.warns(UserWarning, match=r"1 of 4 rows .* read as coded with no theme .*--examples-blank not_coded"):
        assert main([*run, "--examples", str(tmp_path / "coded.csv"), "--out", str(tmp_path / "s2.csv")]) == 0
    s2 = pd.read_csv(tmp_path / "s2.csv", dtype=str, keep_default_na=False).set_index("doc_id")
    assert s2.loc["c2", "example_codes"] == "none" and (s2.loc[["c3", "c5"], "example_codes"] == "").all()
    # the fix the warning suggests
    with pytest.warns(UserWarning, match=r"1 of 4 rows .* read as not coded yet"):
        assert main([*run, "--examples", str(tmp_path / "coded.csv"), "--examples-blank", "not_coded",
                     "--out", str(tmp_path / "s3.csv")]) == 0
    s3 = pd.read_csv(tmp_path / "s3.csv", dtype=str, keep_default_na=False).set_index("doc_id")
    assert s3.loc["c2", "example_codes"] == ""


def test_a_finding_met_again_by_a_later_step_is_said_once(tmp_path: Path) -> None:
    # codes joined by ';' are met by the examples reader and again by each fit: one warning line
    from themeassist.datasets import load_iapt_demo

    demo = load_iapt_demo()
    demo[demo.year.isin(["2016"])].to_csv(tmp_path / "comments.csv", index=False)
    coded = demo[demo.year == "2015"][["doc_id", "text", "themes"]]
    coded.assign(themes=coded.themes.fillna("").str.replace("|", "; ", regex=False)).to_csv(tmp_path / "coded.csv",
                                                                                           index=False)
    assert (coded.themes.fillna("").str.contains("|", regex=False)).sum() >= 2
    import subprocess
    import sys

    # a process of its own: in this one pytest records the warnings before they are printed
    run = subprocess.run([sys.executable, "-m", "themeassist.cli", "suggest", str(tmp_path / "comments.csv"), "--text-col",
                          "text", "--id-col", "doc_id", "--codebook", "iapt", "--examples", str(tmp_path / "coded.csv"),
                          "--examples-codes-col", "themes", "--model", "static", "--cache-dir", str(tmp_path / "cache"),
                          "--quiet", "--out", str(tmp_path / "s.csv")], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    err = run.stderr
    said = [line for line in err.splitlines() if "joined by ';' instead of '|'" in line]
    assert len(said) == 1 and "--examples" in said[0], err


def test_export_reads_none_as_coded_with_no_theme(coded_csv: Path, tmp_path: Path) -> None:
    # 'none' in a codes column (as --examples writes a comment coded with no theme) exports as no coding
    from themeassist.io.refi import import_qdpx

    df = pd.read_csv(coded_csv)
    df.loc[1, "codes"] = "none"
    df.to_csv(coded_csv, index=False)
    out = tmp_path / "study.qdpx"
    assert main(["export", str(coded_csv), "--text-col", "comment", "--id-col", "id", "--codebook", "iapt",
                 "--codes-col", "codes", "--format", "qdpx", "--out", str(out)]) == 0
    _, coded = import_qdpx(out)
    by_id = dict(zip(coded.doc_id, coded.codes))
    assert by_id[str(df.id[1])] == "" and by_id["a4"] == "Resources"


def test_the_expected_agreement_counts_the_comments_it_will_suggest(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # examples among the comments are not suggested anew; examples of other comments take nothing off
    from themeassist.datasets import load_iapt_demo

    demo = load_iapt_demo()
    demo[demo.year == "2015"][["doc_id", "text", "themes"]].to_csv(tmp_path / "coded.csv", index=False)
    args = ["--text-col", "text", "--id-col", "doc_id", "--codebook", "iapt", "--examples", str(tmp_path / "coded.csv"),
            "--examples-codes-col", "themes", "--model", "static", "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    for years, name in ((["2016"], "rest"), (["2015", "2016"], "all")):
        demo[demo.year.isin(years)].to_csv(tmp_path / f"{name}.csv", index=False)
        assert main(["suggest", str(tmp_path / f"{name}.csv"), *args, "--out", str(tmp_path / f"{name}_s.csv")]) == 0
        out = capsys.readouterr().out
        s = pd.read_csv(tmp_path / f"{name}_s.csv", dtype=str, keep_default_na=False)
        to_suggest = int(((s.year == "2016") & s.status.isin(["ok", "truncated"])).sum())
        assert f"on the {to_suggest} comments to suggest" in out, out
    # examples without ids are matched by text: the comments they match, and only those, are not suggested anew
    demo[demo.year == "2015"][["text", "themes"]].to_csv(tmp_path / "coded.csv", index=False)
    assert main(["suggest", str(tmp_path / "all.csv"), *args, "--out", str(tmp_path / "text_s.csv")]) == 0
    out = capsys.readouterr().out
    s = pd.read_csv(tmp_path / "text_s.csv", dtype=str, keep_default_na=False)
    matched = int((s.example_codes != "").sum())
    assert 0 < matched < int((s.year == "2015").sum())  # a few 2015 texts repeat: left unmatched
    to_suggest = int((s.status.isin(["ok", "truncated"]) & (s.example_codes == "")).sum())
    assert f"on the {to_suggest} comments to suggest" in out, out


def test_errors_name_options_as_the_command_line_spells_them(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pd.DataFrame({"id": ["1", "2"], "answer": ["too few rooms", "kind staff"]}).to_csv(tmp_path / "c.csv", index=False)
    assert main(["suggest", str(tmp_path / "c.csv"), "--text-col", "anwser", "--codebook", "iapt", "--model", "static",
                 "--quiet", "--out", str(tmp_path / "s.csv")]) == 2
    err = capsys.readouterr().err
    assert "Pass --text-col 'answer'?" in err and "text_col=" not in err


def test_a_wrong_examples_column_names_the_examples_option_and_the_files_columns(
        tmp_path: Path, coded_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = ["suggest", str(coded_csv), "--text-col", "comment", "--codebook", "iapt", "--examples", str(coded_csv),
           "--examples-text-col", "comment", "--model", "static", "--quiet", "--out", str(tmp_path / "s.csv")]
    assert main([*run, "--examples-codes-col", "code"]) == 2
    err = capsys.readouterr().err
    assert "column 'code' not found (columns: 'comment', 'id', 'wave', 'codes')" in err
    assert "Pass --examples-codes-col 'codes'?" in err and "doc_id" not in err
    with pytest.warns(UserWarning):  # the blank row of the examples: read as not coded yet
        assert main([*run, "--examples-codes-col", "codes"]) == 0  # the fix it offers works
    assert len(pd.read_csv(tmp_path / "s.csv")) == 4


def test_review_rounds_keep_every_theme_a_coder_rejected_for_a_comment() -> None:
    # round 1 rejects A for c1 and B for c2; round 3 rejects C for c1 (suggested then) and accepts c2
    from themeassist.cli.suggest import _latest_decisions

    def table(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=["doc_id", "codes", "negative_codes", "decision"]).assign(text="t")

    one = table([("c1", "", "a", "reject"), ("c2", "", "b", "reject"), ("c3", "x", "", "recode")])
    three = table([("c1", "", "c", "reject"), ("c2", "d", "", "accept")])
    got = _latest_decisions([one, three]).set_index("doc_id")
    assert got.loc["c1", "negative_codes"] == "a|c" and got.loc["c1", "decision"] == "reject"
    assert (got.loc["c2", "codes"], got.loc["c2", "negative_codes"]) == ("d", "")  # the later accept wins
    assert got.loc["c3", "codes"] == "x" and len(got) == 3
    # a recode between two rejects starts afresh: only the rejects after it stay
    mid = table([("c1", "a", "", "recode")])
    got = _latest_decisions([one, mid, three]).set_index("doc_id")
    assert got.loc["c1", "negative_codes"] == "c"
