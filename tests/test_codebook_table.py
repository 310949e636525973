"""Codebooks kept as spreadsheets (.csv / .xlsx) and REFI-QDA .qdc files, read from real files."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from themeassist import load_codebook
from themeassist.codebook import Codebook, read_codes
from themeassist.cli import main
from themeassist.exceptions import CodebookError
from themeassist.io import export_qdc

#: A researcher's table: one column per level, merged-looking blanks, "Other" under two parents,
#: a child named as its parent, a parent described on its own row.
WIDE = [
    ["Theme", "Sub-theme", "Description"],
    ["Customer", None, "Anything about the customer"],
    [None, "Conflicts with the customer", None],
    [None, "Other", None],
    ["Product", "Product", "The product itself"],
    [None, "Poor product quality", "Bugs, crashes"],
    [None, "Other", None],
    ["Project", "Time overrun", None],
]
PATHS = ["Customer > Conflicts with the customer", "Customer > Other", "Product > Product",
         "Product > Poor product quality", "Product > Other", "Project > Time overrun"]


def _csv(path: Path, rows: list[list[object]]) -> Path:
    pd.DataFrame(rows[1:], columns=rows[0]).to_csv(path, index=False)
    return path


def _leaf_paths(cb: Codebook) -> list[str]:
    return [" > ".join(t.path) for t in cb.leaves()]


def test_a_table_of_levels_gives_the_hierarchy_with_repeated_names_apart(tmp_path: Path) -> None:
    cb = load_codebook(_csv(tmp_path / "causes.csv", WIDE))
    assert cb.name == "causes" and _leaf_paths(cb) == PATHS
    desc = {" > ".join(t.path): t.description for t in cb.themes}
    assert desc["Customer"] == "Anything about the customer"  # the parent's own row
    assert desc["Product > Product"] == "The product itself" and desc["Product"] == ""
    assert desc["Product > Poor product quality"] == "Bugs, crashes"
    # the same name under two parents: a path is read, the bare name is refused as ambiguous
    ids = read_codes(["Product > Other", "Customer > Other|Time overrun"], cb)
    assert ids == [["product.other"], ["customer.other", "project.time-overrun"]]
    with pytest.raises(CodebookError, match="ambiguous"):
        read_codes(["Other"], cb)


def test_an_xlsx_with_merged_cells_reads_as_the_csv(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in WIDE:
        ws.append(row)
    ws.merge_cells("A2:A4")  # "Customer" spans its three rows, as a coder lays it out
    ws.merge_cells("A5:A7")
    wb.save(tmp_path / "causes.xlsx")
    from_xlsx = load_codebook(tmp_path / "causes.xlsx")
    from_csv = load_codebook(_csv(tmp_path / "causes.csv", WIDE))
    assert from_xlsx.to_frame().equals(from_csv.to_frame())


def test_one_row_per_theme_with_spreadsheet_headers(tmp_path: Path) -> None:
    rows = [["Code", "Parent", "Definition", "Keywords"],
            ["Staff", None, "People who work here", None],
            ["Attitude", "Staff", "How staff behave", "rude|kind"],
            ["Food", None, None, None]]
    cb = load_codebook(_csv(tmp_path / "long.csv", rows))
    assert _leaf_paths(cb) == ["Staff > Attitude", "Food"]
    att = cb.get("Attitude")
    assert att.description == "How staff behave" and list(att.keywords) == ["rude", "kind"]


@pytest.mark.parametrize("rows, message", [
    ([["Theme", "Sub-theme"], [None, "Orphan"]],
     r"row 1, column 'Theme' is blank and no row above gives it"),
    ([["Theme", "Sub-theme", "Description"], ["A", "B", "one"], ["A", "B", "two"]],
     r"rows 1 and 2 give 'A > B' two different description values \('one', 'two'\)"),
    ([["Theme", "Sub-theme", "Theme description"], ["A", None, "x"], [None, "B", "y"]],
     r"rows 1 and 2 give 'A' two different description values"),
    ([["Theme", "Sub-theme", "Sub-theme description"], ["A", None, "lost"]],
     r"row 1 gives the description of 'Sub-theme', which it leaves blank"),
    ([["Theme", "Description", "Notes"], ["A", "x", 3]],
     r"column 'Notes' comes after the level columns"),
    ([["Theme", "Sub-theme", "Description"], ["A", "B", None], [None, None, "lost"]],
     r"row 2 describes a theme but names none"),
])
def test_table_mistakes_are_refused_naming_the_row(tmp_path: Path, rows: list[list[object]], message: str) -> None:
    path = _csv(tmp_path / "bad.csv", rows)
    with pytest.raises(CodebookError, match=message) as err:
        load_codebook(path)
    assert str(path) in str(err.value)


def test_unknown_column_of_a_long_table_is_named_with_the_allowed_ones(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match=r"unknown column 'Notes'.*Allowed columns"):
        load_codebook(_csv(tmp_path / "long.csv", [["Name", "Notes"], ["A", "x"]]))


def test_a_code_list_exported_with_usage_columns_reads_without_them(tmp_path: Path) -> None:
    # NVivo's exported code list: names and descriptions beside how often each code was used
    flat = load_codebook(_csv(tmp_path / "nvivo.csv", [
        ["Name", "Description", "Files", "References", "Created On", "Modified By"],
        ["Waiting times", "Delays before care", 3, 7, "2024-01-02", "AB"],
        ["Staff attitude", None, 5, 12, "2024-01-02", "AB"]]))
    assert [t.name for t in flat.leaves()] == ["Waiting times", "Staff attitude"]
    assert flat.leaves()[0].description == "Delays before care"
    # the same columns after the levels of a wide table are not read as levels or refused
    wide = load_codebook(_csv(tmp_path / "wide.csv", [row + [n] for row, n in zip(WIDE, ["Count"] + list(range(7)))]))
    assert _leaf_paths(wide) == PATHS
    # a column that is not about use is still refused
    with pytest.raises(CodebookError, match=r"unknown column 'Notes'"):
        load_codebook(_csv(tmp_path / "notes.csv", [["Name", "Files", "Notes"], ["A", 1, "x"]]))


def test_a_none_code_the_codebook_does_not_declare_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = _csv(tmp_path / "causes.csv", WIDE)
    with pytest.raises(CodebookError, match=r"no theme named 'NotCodable'.*declare it a none code \(--none-codes "
                                            r"'NotCodable'.*none_codes=\['NotCodable'\]"):
        read_codes(["Time overrun|NotCodable"], load_codebook(path))
    with pytest.raises(CodebookError) as plain:  # an ordinary unknown code gets no such hint
        read_codes(["Time overun"], load_codebook(path))
    assert "none code" not in str(plain.value)
    assert read_codes(["NotCodable", "Time overrun"], load_codebook(path, none_codes=["NotCodable"])) == \
        [[], ["project.time-overrun"]]


def test_a_qdc_codebook_loads_by_its_suffix(tmp_path: Path) -> None:
    cb = load_codebook(_csv(tmp_path / "causes.csv", WIDE))
    export_qdc(cb, tmp_path / "causes.qdc")
    back = load_codebook(tmp_path / "causes.qdc", none_codes=["NotCodable"])
    assert _leaf_paths(back) == PATHS and back.none_codes == ("NotCodable",)


def test_cli_drift_and_export_take_a_spreadsheet_codebook(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    for row in WIDE:
        wb.active.append(row)
    wb.save(tmp_path / "causes.xlsx")
    coded = pd.DataFrame({"id": [f"r{i}" for i in range(8)], "wave": [1, 1, 1, 1, 2, 2, 2, 2],
                          "text": ["late", "bugs", "rude client", "late again", "bugs", "bugs", "other", "late"],
                          "codes": ["Time overrun", "Poor product quality", "Conflicts with the customer",
                                    "Time overrun", "Poor product quality", "Product > Other",
                                    "Customer > Other", "none"]})
    coded.to_csv(tmp_path / "coded.csv", index=False)
    assert main(["drift", str(tmp_path / "coded.csv"), "--period-col", "wave", "--codes-col", "codes",
                 "--codebook", str(tmp_path / "causes.xlsx"), "--out", str(tmp_path / "dr"), "--quiet"]) == 0
    prev = pd.read_csv(tmp_path / "dr" / "prevalence.csv")
    wave2 = prev[prev.period.astype(str) == "2"].set_index("theme_id").prevalence
    # 1 of the 4 answers of wave 2 is "Poor product quality"; 2 are under Product, rolled up
    assert wave2["product.poor-product-quality"] == pytest.approx(0.25)
    assert wave2["product"] == pytest.approx(0.5) and wave2["customer.other"] == pytest.approx(0.25)
    assert main(["export", str(tmp_path / "coded.csv"), "--text-col", "text", "--codebook",
                 str(tmp_path / "causes.xlsx"), "--format", "qdc", "--out", str(tmp_path / "cb.qdc")]) == 0
    assert _leaf_paths(load_codebook(tmp_path / "cb.qdc")) == PATHS


def test_a_code_column_under_a_category_column_is_a_level(tmp_path: Path) -> None:
    # "Code" names the theme only beside a parent column; here it is the second level
    rows = [["Category", "Code"], ["Customer", "Other"], [None, "Customer dissatisfaction"], ["Product", "Other"]]
    cb = load_codebook(_csv(tmp_path / "effects.csv", rows))
    assert _leaf_paths(cb) == ["Customer > Other", "Customer > Customer dissatisfaction", "Product > Other"]
    flat = load_codebook(_csv(tmp_path / "flat.csv", [["Code", "Definition"], ["Late", "x"], ["Bugs", None]]))
    assert _leaf_paths(flat) == ["Late", "Bugs"] and flat.get("Late").description == "x"


def test_a_long_table_with_a_child_named_as_its_parent(tmp_path: Path) -> None:
    rows = [["Name", "Parent"], ["Customer", None], ["Other", "Customer"], ["Product", None], ["Product", "Product"]]
    cb = load_codebook(_csv(tmp_path / "long.csv", rows))  # "Product" under "Product": not its own parent
    assert _leaf_paths(cb) == ["Customer > Other", "Product > Product"]
    rows += [["Other", "Product"]]  # under which "Product"? both could be meant: refused, with the fixes
    with pytest.raises(CodebookError, match=r"the parent 'Product' of theme 'Other' \(row 5\) matches several themes "
                                            r"\(row 3, row 4\)\. Refer to the parent by its id \(give the themes a "
                                            r"theme_id column\), or write the table one column per level"):
        load_codebook(_csv(tmp_path / "long2.csv", rows))


@pytest.mark.parametrize("name, content", [("bad.xlsx", b"not a zip"), ("empty.csv", b"")])
def test_an_unreadable_sheet_is_a_codebook_error_naming_the_file(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CodebookError, match=rf"cannot read '{path}' as a \.(xlsx|csv) table .*Save the codebook again"):
        load_codebook(path)


def test_each_level_may_have_its_own_description_column(tmp_path: Path) -> None:
    # a fully filled sheet: the theme's description repeats on every row of its sub-themes
    rows = [["Theme", "Sub-theme", "Theme description", "Sub-theme description", "Keywords"],
            ["Staff", "Attitude", "People who work here", "How staff behave", "rude|kind"],
            ["Staff", "Numbers", "People who work here", None, None],
            ["Food", "Other", None, "Anything else about food", None]]
    cb = load_codebook(_csv(tmp_path / "levels.csv", rows))
    assert _leaf_paths(cb) == ["Staff > Attitude", "Staff > Numbers", "Food > Other"]
    desc = {" > ".join(t.path): t.description for t in cb.themes}
    assert desc == {"Staff": "People who work here", "Staff > Attitude": "How staff behave", "Staff > Numbers": "",
                    "Food": "", "Food > Other": "Anything else about food"}
    assert cb.get("Attitude").keywords == ("rude", "kind") and cb.get("Staff").keywords == ()
    # the levels come first: a column after a describing one is never read as a level
    for bad in (["Theme", "Theme description", "Notes"], ["Theme", "Theme description", "Sub-theme"]):
        with pytest.raises(CodebookError, match=rf"column '{bad[2]}' comes after the level columns.*Put the level "
                                                r"columns first \(e\.g\. Theme \| Sub-theme \| Theme description"):
            load_codebook(_csv(tmp_path / "bad.csv", [bad, ["A", "x", "n"]]))
