"""Tests for themeassist.codebook and the built-in codebooks (all small, no model)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from themeassist import codebooks
from themeassist.codebook import Codebook, Theme, load_codebook, slugify
from themeassist.exceptions import CodebookError

DATA = Path(__file__).parent / "data" / "codebooks"

IAPT_ROOT = "The Person behind the Professional: Health & Wellbeing"
IAPT = {
    "Identity": ["Professional Identity", "Seeking Balance: Professional & Personal Identity"],
    "Systemic Design: A Threat to Professional Identity": [
        "The Failing Professional", "Employee First, Person Second", "The Restricted Professional",
        "Inter-professional Rivalry", "Misunderstood Practitioners"],
    "System Demand Pressures": [
        "The Unsuitable Client", "What System? Demands, Risk & Nowhere to Go", "Media & Policy",
        "Change: A Never Ending Surprise", "A Bullying Culture"],
    "Workplace Culture & Context": [
        "Reflective Space & Preparation", "The Professional Advocate", "Support: Teams & Isolation",
        "Absence & Managing Attendance", "Resources", "Balance, Perks & Permission"],
}


@pytest.fixture(scope="module")
def small() -> Codebook:
    return Codebook.from_yaml(DATA / "good_canonical.yaml")


# ---- built-in IAPT codebook ------------------------------------------------------------------
def test_iapt_structure_names_depths_parents():
    cb = codebooks.iapt_wellbeing()
    assert codebooks.available() == ["iapt_wellbeing"]
    assert cb.name == "iapt_wellbeing" and cb.source == "builtin:iapt_wellbeing"
    assert len(cb) == 1 + 4 + 18
    assert [t.depth for t in cb].count(0) == 1
    assert [t.depth for t in cb].count(1) == 4
    assert [t.depth for t in cb].count(2) == 18
    (root,) = cb.roots()
    assert root.name == IAPT_ROOT and root.theme_id == "wellbeing"
    assert [t.name for t in cb.children(root.theme_id)] == list(IAPT)
    for parent, subs in IAPT.items():
        assert [t.name for t in cb.children(parent)] == subs
        for sub in subs:
            theme = cb.get(sub)
            assert theme.is_leaf and cb.parent_of(sub).name == parent
            assert theme.path == (IAPT_ROOT, parent, sub)
    assert [t.name for t in cb.leaves()] == [s for subs in IAPT.values() for s in subs]
    assert cb.get("Professional Identity").theme_id == "identity.professional-identity"
    for t in cb:  # every node documented: 1-3 sentences, 4-8 keywords, 2 examples
        assert 1 <= len(re.findall(r"[.!?](?:\s|$)", t.description)) <= 3, t.name
        assert 4 <= len(t.keywords) <= 8, t.name
        assert len(t.examples) == 2, t.name


def test_iapt_aliases_and_yaml_header():
    assert load_codebook("iapt") is load_codebook("iapt_wellbeing") is load_codebook("IAPT-Wellbeing")
    text = (Path(codebooks.__file__).parent / "iapt_wellbeing.yaml").read_text(encoding="utf-8")
    assert "Harper, K., Bhutani, G., Rao, A. S. & Clarke, J. (2020)" in text
    with pytest.raises(CodebookError, match=r"neither a codebook file.*iapt_wellbeing.*Did you mean 'iapt_wellbeing'"):
        load_codebook("iapt_welbeing")


# ---- the NHS v6 short-form file --------------------------------------------------------------
def test_v6_hierarchy_loads_as_it_is(shared_data):
    cb = load_codebook(shared_data / "nhs_fft" / "v6_hierarchy.yaml")
    assert cb.name == "v6_hierarchy" and cb.source.endswith("v6_hierarchy.yaml")
    assert len(cb.roots()) == 13 and len(cb.leaves()) == 50 and len(cb) == 63
    assert {t.depth for t in cb.leaves()} == {1}
    assert [t.name for t in cb.children("Medication")] == ["Supplying & understanding medication", "Pain management"]
    referrals = cb.get("referals & continuity of care")
    assert referrals.theme_id == "patient-journey-service-coordination.referals-continuity-of-care"
    assert referrals.parent_id == "patient-journey-service-coordination"
    assert cb.get("Other > Choice of services").path_str == "Other > Choice of services"


def test_v6_codes_match_csv_columns(nhs_v6_csv, shared_data):
    cb = load_codebook(shared_data / "nhs_fft" / "v6_hierarchy.yaml")
    columns = list(pd.read_csv(nhs_v6_csv, nrows=0).columns)
    codes = columns[columns.index("Not assigned"):]
    ids = cb.resolve_codes(codes)
    assert len(ids) == 50 and sorted(ids) == sorted(t.theme_id for t in cb.leaves())


# ---- good files ------------------------------------------------------------------------------
def test_good_canonical_yaml_values(small):
    assert small.name == "staff_survey" and small.source == str(DATA / "good_canonical.yaml")
    assert [(t.theme_id, t.parent_id, t.depth) for t in small] == [
        ("load", None, 0),
        ("load.overtime", "load", 1),
        ("load.targets", "load", 1),
        ("load.targets.waiting-lists", "load.targets", 2),
        ("support", None, 0),
    ]
    load = small.get("load")
    assert load == Theme("load", "Workload", "Amount of work.", ("hours", "caseload"), ("Too many clients.",),
                         None, 0, ("load.overtime", "load.targets"), ("Workload",))
    assert small.get("Waiting lists").examples == ("The list never shrinks.", "Months of waiting.")
    assert [t.name for t in small.leaves()] == ["Overtime", "Waiting lists", "Support"]


def test_good_json_equals_yaml_and_flat_form(small):
    from_json = Codebook.from_json(DATA / "good_canonical.json")
    assert from_json == small and from_json.source.endswith("good_canonical.json")
    flat = Codebook.load(DATA / "good_flat.yaml")
    # depth-first order: roots in file order, children in file order
    assert [(t.theme_id, t.depth) for t in flat] == [
        ("load", 0), ("load.targets", 1), ("load.targets.waiting-lists", 2), ("load.overtime", 1)]


def test_short_form_nested_mappings_and_text_input():
    cb = Codebook.from_yaml("Staff:\n  Manner:\n    - Rude\n    - Kind\n  Skills:\nAccess:\n  - Parking: [Cost]\n")
    assert cb.source == "<text>" and cb.name == "codebook"
    assert [t.path_str for t in cb.leaves()] == [
        "Staff > Manner > Rude", "Staff > Manner > Kind", "Staff > Skills", "Access > Parking > Cost"]
    assert cb.get("cost").theme_id == "access.parking.cost"


# ---- broken files ----------------------------------------------------------------------------
@pytest.mark.parametrize(("filename", "expected"), [
    ("broken_duplicate_sibling.yaml",
     "theme 'resources' appears twice under 'Workplace Culture & Context' "
     "(themes[1].children[1] and themes[1].children[2])"),
    ("broken_empty_name.yaml", "the theme at themes[0].children[1] has an empty name"),
    ("broken_unknown_key.yaml",
     "unknown key 'keyword' in themes[0].children[0]. Did you mean 'keywords'? "
     "Allowed keys: name, id, description, keywords, examples, aliases, children"),
    ("broken_cycle.yaml",
     "cycle: 'A' (themes[1]) -> 'C' (themes[3]) -> 'B' (themes[2]) -> 'A' (themes[1])"),
    ("broken_duplicate_id.yaml",
     "theme id 'manner' is used twice (themes[0].children[0] and themes[1].children[0])"),
    ("broken_duplicate_key.yaml", "key 'Staff' appears twice in one mapping (lines 2 and 6)"),
    ("broken_wrong_type.json", "themes[0].children[0].keywords must be a list of strings, got 'rude'"),
])
def test_broken_files_name_the_node(filename, expected):
    with pytest.raises(CodebookError) as info:
        load_codebook(DATA / filename)
    assert expected in str(info.value)
    assert str(info.value).endswith(f"(in {DATA / filename})")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("obj", "expected"), [
    ({"Staff": ["A", "A"]}, "theme 'A' appears twice under 'Staff' (['Staff'][0] and ['Staff'][1])"),
    ({"Staff": "Rude"}, "['Staff'] must be a list of sub-theme names or a mapping of sub-themes, got str"),
    ({"Staff": [False]}, "name of the theme at ['Staff'][0] must be a string, got bool False"),
    ({"name": "x", "themes": [{"name": "A"}], "theme": []}, "unknown top-level key 'theme'. Did you mean 'themes'?"),
    ({"themes": [{"name": "A", "children": [{"name": "B", "parent": "A"}]}]},
     "'parent' is only allowed on entries of the top-level 'themes' list"),
    ({"themes": [{"name": "A", "parent": "Zed"}, {"name": "Zeb"}]}, "is not the id or name of any theme. Did you mean 'Zeb'?"),
    ({"themes": [{"name": "A", "parent": "A"}]}, "cycle: 'A' (themes[0]) -> 'A' (themes[0])"),
    ({"themes": [{"name": "A & B"}, {"name": "A B"}]}, "theme id 'a-b' is used twice (themes[0] and themes[1]) "
                                                       "(derived from the names; give one an explicit 'id:')"),
    ({"themes": [{"name": "A", "id": "has space"}]}, "the id 'has space' at themes[0] must be"),
    ({"themes": []}, "no themes found"),
])
def test_invalid_structures(obj, expected):
    with pytest.raises(CodebookError) as info:
        Codebook.from_dict(obj)
    assert expected in str(info.value)


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("Staff: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(CodebookError, match="is not valid YAML"):
        load_codebook(path)
    with pytest.raises(CodebookError, match="file not found"):
        load_codebook(tmp_path / "missing.yaml")


# ---- tables and round trips ------------------------------------------------------------------
def test_to_frame_columns_and_values(small):
    df = small.to_frame()
    assert list(df.columns) == ["theme_id", "name", "parent_id", "depth", "description", "keywords",
                                "n_examples", "path", "is_leaf"]
    assert df["depth"].tolist() == [0, 1, 1, 2, 0]
    assert df["n_examples"].tolist() == [1, 0, 0, 2, 0]
    assert df["is_leaf"].tolist() == [False, True, False, True, True]
    assert df["keywords"].tolist() == ["hours|caseload", "unpaid", "", "", ""]
    assert df["parent_id"].tolist() == [None, "load", "load", "load.targets", None]
    assert df.loc[3, "path"] == "Workload > Targets & Figures > Waiting lists"


def test_round_trips(small, tmp_path):
    iapt = codebooks.iapt_wellbeing()
    for cb in (small, iapt):
        assert Codebook.from_yaml(cb.to_yaml()) == cb
        assert Codebook.from_json(json.dumps(cb.to_dict())) == cb
    # ids are written only where they differ from the derived ones
    assert small.to_dict()["themes"][0]["children"][1] == {
        "name": "Targets & Figures", "id": "load.targets",
        "children": [{"name": "Waiting lists", "examples": ["The list never shrinks.", "Months of waiting."]}]}
    path = tmp_path / "out.yaml"
    small.to_yaml(path)
    assert load_codebook(path) == small
    frame = small.to_frame()  # the table keeps everything but the example texts
    assert Codebook.from_frame(frame, name="staff_survey") == small.with_examples(
        {t.theme_id: [] for t in small}, replace=True)


def test_from_frame_parent_by_name_and_cycle():
    df = pd.DataFrame({"name": ["Staff", "Rude", "Kind"], "parent_id": [None, "staff", "Staff"],
                       "keywords": [math.nan, "rude|abrupt", ["kind"]]})
    cb = Codebook.from_frame(df)
    assert [t.theme_id for t in cb] == ["staff", "staff.rude", "staff.kind"]
    assert cb.get("rude").keywords == ("rude", "abrupt") and cb.get("kind").keywords == ("kind",)
    loop = pd.DataFrame({"theme_id": ["a", "b"], "name": ["A", "B"], "parent_id": ["b", "a"]})
    with pytest.raises(CodebookError, match=r"cycle: 'A' \(row 0\) -> 'B' \(row 1\) -> 'A' \(row 0\)"):
        Codebook.from_frame(loop)
    with pytest.raises(CodebookError, match="unknown column 'parnt'. Did you mean 'parent'"):
        Codebook.from_frame(pd.DataFrame({"name": ["A"], "parnt": [None]}))


# ---- lookups ---------------------------------------------------------------------------------
def test_resolve_codes_at_any_level():
    cb = codebooks.iapt_wellbeing()
    got = cb.resolve_codes("Identity| resources |workplace-culture.resources|  |System Demand Pressures > Media & Policy")
    assert got == ["identity", "workplace-culture.resources", "system-demand.media-policy"]
    assert cb.resolve_codes(["wellbeing", "a bullying culture"]) == ["wellbeing", "system-demand.a-bullying-culture"]
    assert cb.resolve_codes(math.nan) == [] and cb.resolve_codes(None) == [] and cb.resolve_codes("") == []
    assert cb.resolve_codes("Resources;Identity", sep=";") == ["workplace-culture.resources", "identity"]
    with pytest.raises(CodebookError, match=r"no theme named 'Resorces'. Did you mean 'Resources'\?"):
        cb.resolve_codes("Identity|Resorces")
    with pytest.raises(CodebookError, match=r"2 codes could not be resolved: .*'Resorces'.*'Bananas'"):
        cb.resolve_codes(["Resorces", "Bananas"])


def test_repeated_names_are_ambiguous_but_addressable_by_path():
    cb = Codebook.from_dict({"Staff": ["Other", "Manner"], "Access": ["Other"]})
    with pytest.raises(CodebookError, match=r"'other' is ambiguous; it names 2 themes: 'Staff > Other' "
                                            r"\(id 'staff.other'\), 'Access > Other' \(id 'access.other'\)"):
        cb.get("other")
    assert cb.get("Access > Other").theme_id == "access.other"
    assert cb.get("staff.other").path_str == "Staff > Other"
    assert cb.resolve_codes("Manner|ACCESS>other") == ["staff.manner", "access.other"]
    assert "Other" in cb and "Nothing" not in cb


def test_navigation(small):
    assert small.parent_of("Workload") is None
    assert [t.name for t in small.ancestors("Waiting lists")] == ["Workload", "Targets & Figures"]
    assert [t.theme_id for t in small.children("load")] == ["load.overtime", "load.targets"]
    assert [t.theme_id for t in small.descendants("Workload")] == [
        "load.overtime", "load.targets", "load.targets.waiting-lists"]
    assert small.children("support") == []


def test_theme_text_and_with_examples(small):
    assert small.theme_text("Workload") == (
        'Workload. Amount of work. Keywords: hours, caseload. Examples: "Too many clients."')
    assert small.theme_text("Overtime", with_path=True) == "Workload > Overtime. Keywords: unpaid."
    more = small.with_examples({"Overtime": "Staying late every day.", "load": ["Too many clients.", "No breaks."]})
    assert more is not small and small.get("Overtime").examples == ()
    assert more.get("Overtime").examples == ("Staying late every day.",)
    assert more.get("load").examples == ("Too many clients.", "No breaks.")
    assert more.with_examples({"load": ["Only this."]}, replace=True).get("load").examples == ("Only this.",)
    assert more != small and more.name == small.name


def test_slugify_and_load_codebook_passthrough(small):
    assert slugify("Transport to/ from services") == "transport-to-from-services"
    assert slugify("Café Équipe") == "cafe-equipe"
    assert load_codebook(small) is small
    assert load_codebook({"A": ["B"]}).get("b").theme_id == "a.b"


def test_docstring_examples_run():
    import doctest

    import themeassist._codebook_parse as parse_module
    import themeassist.codebook as codebook_module

    for module in (codebook_module, parse_module, codebooks):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
