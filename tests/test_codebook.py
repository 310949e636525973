"""Tests for themeassist.codebook and the built-in codebooks (all small, no model)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from themeassist import codebooks
from themeassist.codebook import Codebook, Theme, load_codebook, read_codes, read_suggested_ids, slugify
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
    with pytest.raises(CodebookError, match=r"cycle: 'A' \(row 1\) -> 'B' \(row 2\) -> 'A' \(row 1\)"):
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


# ---- the addressing rule (issue 12) ----------------------------------------------------------
SURVEY = {"words": None, "change": ["words", "tone"], "remove": ["words"], "add": ["words", "sentence"]}
NHS_LIKE = {"Care received": ["Care received", "Activities"], "Communication": ["Communication", "Listening"],
            "Couldn't be improved": ["Nothing to improve"], "Miscellaneous": ["Nothing to improve", "Funding"]}


def _fix_from(message: str) -> list[str]:
    """The strings an ambiguity error says to write instead."""
    tail = message.split("Write one of ", 1)[1].rsplit(" instead", 1)[0]
    return [eval(part) for part in tail.split(" or ")]  # noqa: S307 - reprs written by the library


def test_addressing_rule_on_a_leaf_name_at_the_top_and_under_two_parents():
    cb = Codebook.from_dict(SURVEY)
    assert [t.theme_id for t in cb if t.name == "words"] == ["words", "change.words", "remove.words", "add.words"]
    # 1. the exact id; 3. the full path (a top-level theme's path is its name); 4. a unique name
    assert cb.get("change.words").path_str == "change > words"
    assert cb.get("words").theme_id == cb.get("WORDS").theme_id == cb.get(" Words ").theme_id == "words"
    assert cb.get("Change>WORDS").theme_id == cb.get("change  >  words").theme_id == "change.words"
    assert cb.get("tone").theme_id == "change.tone" and cb.get("change > tone").theme_id == "change.tone"
    # ids are exact: a case variant of an id is read as a name or a path
    with pytest.raises(CodebookError, match="no theme named 'Change.Words'"):
        cb.get("Change.Words")
    # a name that is no top-level path and names several themes: an error whose advice works
    two = Codebook.from_dict({"change": ["words"], "remove": ["words"], "other": None})
    with pytest.raises(CodebookError) as info:
        two.get("Words")
    msg = str(info.value)  # neither is spelled 'Words' exactly (that would decide)
    assert "'Words' is ambiguous; it names 2 themes: 'change > words' (id 'change.words'), " \
           "'remove > words' (id 'remove.words')" in msg
    assert [two.get(fix).theme_id for fix in _fix_from(msg)] == ["change.words", "remove.words"]
    assert read_codes(["words|Sentence", "change > words", "remove.words"], cb) == [
        ["words", "add.sentence"], ["change.words"], ["remove.words"]]


def test_a_same_named_sub_theme_wins_with_one_warning_per_code():
    cb = Codebook.from_dict(NHS_LIKE)
    col = ["Care received", "care received|Activities", "Communication", "Care received > Care received",
           "communication", "Miscellaneous > Nothing to improve", "", "Care received"]
    with pytest.warns(UserWarning) as record:
        got = read_codes(col, cb, column="subcategory")
    assert got == [["care-received.care-received"], ["care-received.care-received", "care-received.activities"],
                   ["communication.communication"], ["care-received.care-received"], ["communication.communication"],
                   ["miscellaneous.nothing-to-improve"], [], ["care-received.care-received"]]
    notes = [str(w.message) for w in record]
    assert len(notes) == 2  # one per theme read that way, whatever its spellings ('Care received', 'care received')
    care = next(n for n in notes if n.startswith("Codebook 'codebook': 'Care received' (also written 'care received') "
                                                 "names"))
    assert "in 3 rows (rows 1–2, 8, column 'subcategory')" in care
    assert "'Care received' (id 'care-received')" in care and "Write 'Care received > Care received' to" in care
    # the parent's id (here also its name in lower case) reads as the sub-theme too, warned: one meaning per theme
    comm = next(n for n in notes if "'Communication'" in n)
    assert "(also written 'communication')" in comm and "in 2 rows (rows 3, 5" in comm
    # beside one of its sub-themes (a rolled-up cell) the parent's id is the parent, not its same-named sub-theme
    import warnings as w

    with w.catch_warnings():
        w.simplefilter("error")
        assert read_codes(["communication|communication.listening"], cb) == [["communication",
                                                                              "communication.listening"]]
    assert cb.itself("care-received").theme_id == "care-received.care-received"
    assert cb.itself("Communication > Listening").theme_id == "communication.listening"
    # the readable code of each theme reads back as that theme, without a warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in cb:
            assert cb.get(cb.code_for(t.theme_id)).theme_id == t.theme_id
    assert cb.code_for("care-received") == "care-received"
    assert cb.code_for("care-received.care-received") == "Care received > Care received"
    with pytest.raises(CodebookError, match=r"2 codes could not be read: row 1: .*'Nothing to improve' is ambiguous"
                                            r".*\| row 2: .*no theme named 'Parking'"):
        read_codes(["Nothing to improve", "Parking"], cb)


def test_names_compare_after_nfkc_case_folding_and_spaces():
    cb = Codebook.from_dict({"Staff attitude": None, "Café": ["Tea"]})
    assert cb.get("\uff33\uff34\uff21\uff26\uff26  ATTITUDE").theme_id == "staff-attitude"  # full-width letters
    assert cb.get("cafe\u0301 > TEA").theme_id == "cafe.tea"  # combining accent: NFKC composes it
    assert "staff\u00a0attitude" in cb and "staff-attitude" in cb and "Staff attitudes" not in cb


@pytest.mark.parametrize(("obj", "expected"), [
    ({"Staff": ["Rude | Kind"]}, "the name 'Rude | Kind' at ['Staff'][0] contains '|', which separates codes in a "
                                 "cell; rename it, e.g. 'Rude / Kind'"),
    ({"Staff": ["Rude  >  Kind"]}, "contains ' > ', which separates the levels of a path; rename it, e.g. "
                                   "'Rude - Kind'"),
    ({"themes": [{"name": "Vocabulary", "id": "words"}, {"name": "change", "children": ["words"]}]},
     "the id 'words' of theme 'Vocabulary' (themes[0]) is also the name of theme 'words' "
     "(themes[1].children[0]), so a code 'words' could mean either; give 'Vocabulary' another id"),
    ({"themes": [{"name": "a.b"}, {"name": "A", "children": ["B"]}]}, "the id 'a.b' of theme 'B'"),
])
def test_names_and_ids_that_readers_could_not_tell_apart_are_refused(obj, expected):
    with pytest.raises(CodebookError) as info:
        Codebook.from_dict(obj)
    assert expected in str(info.value)


def test_an_id_may_be_its_own_name():
    cb = Codebook.from_dict({"themes": [{"name": "Words", "id": "words"}, {"name": "change", "children": ["words"]}]})
    assert cb.get("words").name == "Words" and cb.get("change > words").theme_id == "change.words"
    # a YAML/JSON 'id' key is kept as written and used by every reader
    assert read_codes(["words|change.words"], cb) == [["words", "change.words"]]


def test_spelling_variants_are_refused_naming_the_option_or_merged_with_counts(tmp_path):
    short = {"STEM": ["Science", "science", "Maths"], "Arts": ["Science"]}
    with pytest.raises(CodebookError) as info:
        Codebook.from_dict(short)
    assert "theme 'science' appears twice under 'STEM' (['STEM'][0] and ['STEM'][1]) as 'Science' and 'science'" \
        in str(info.value)
    assert "merge_variants=True (command line: --merge-variants)" in str(info.value)
    for a, b in (("Self-care", "Self \u2013 care"), ("Self care", "self-care"), ("Incomplete requirements",
                                                                               "Incomplete  Requirements")):
        with pytest.raises(CodebookError, match="appears twice"):
            Codebook.from_dict({"P": [a, b]})
    codes = ["STEM > science", "science|Maths", "STEM > Science", "science", "Arts > Science"]
    with pytest.warns(UserWarning, match=r"under 'STEM': 'science' \(kept; 3 uses\), 'Science' \(2 uses\)"):
        cb = load_codebook(short, merge_variants=True, counts=codes)
    assert [t.path_str for t in cb.leaves()] == ["STEM > science", "STEM > Maths", "Arts > Science"]
    stem_science = cb.get("STEM > science")
    assert stem_science.aliases == ("Science",) and stem_science.theme_id == "stem.science"
    # every spelling now reads as the merged theme; the same name under another parent stays apart
    assert read_codes(["STEM > Science", "stem>SCIENCE", "Arts > Science"], cb) == [
        ["stem.science"], ["stem.science"], ["arts.science"]]
    assert Codebook.from_yaml(cb.to_yaml()) == cb  # aliases are written back
    with pytest.warns(UserWarning, match=r"no counts of use were given: the first spelling in the codebook is kept"):
        first = Codebook.from_dict({"P": ["B", "b", {"B ": ["x"]}]}, merge_variants=True)
    assert [t.path_str for t in first] == ["P", "P > B", "P > B > x"]
    # siblings with their own explicit ids are different themes (as REFI-QDA imports give them)
    both = Codebook.from_dict({"themes": [{"name": "P", "children": [{"name": "B", "id": "b1"},
                                                                     {"name": "b", "id": "b2"}]}]})
    assert [t.theme_id for t in both.leaves()] == ["b1", "b2"]
    with pytest.raises(CodebookError, match="Write one of 'P > B' or 'P > b' instead"):
        both.get("p > B ")  # the path names both, and neither is spelled exactly so
    assert both.get("P > b").theme_id == "b2" and both.get("B").theme_id == "b1"  # the exact spelling decides


def test_none_codes_mean_none_of_these(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text("none_codes: [NotCodable, n/a]\nInput:\n  - Unclear needs\nNot in the sheet:\n  - NotCodable\n"
                    "  - Insufficient info\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"'NotCodable' \(\['Not in the sheet'\]\[0\]\) declared in none_codes"):
        cb = load_codebook(path)
    assert cb.none_codes == ("NotCodable", "n/a") and "NotCodable" not in [t.name for t in cb]
    assert read_codes(["notcodable", "N/A", "Unclear needs", ""], cb) == [[], [], ["input.unclear-needs"], []]
    with pytest.raises(CodebookError, match="'NotCodable' is a none code"):
        cb.get("NotCodable")
    assert Codebook.from_yaml(cb.to_yaml()).none_codes == cb.none_codes
    extra = load_codebook({"Staff": ["Rude"]}, none_codes=["nothing applies"])
    assert extra.resolve_codes("Nothing  applies|Rude") == ["staff.rude"]
    with pytest.raises(CodebookError, match="declared a none code but has sub-themes"):
        Codebook.from_dict({"none_codes": ["Other"], "Other": ["x"]})


# ---- hostile codebook files (issue 15) -------------------------------------------------------
def test_yaml_aliases_are_refused_before_expanding(tmp_path):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9) + "]" for p, c in zip("abcdefgh", "bcdefghi")]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size < 900  # expanded, this would be 9**9 (387 million) names
    with pytest.raises(CodebookError, match=r"uses a YAML alias \(\*a, line 2\); codebooks must not use anchors"):
        load_codebook(path)


def test_deep_and_non_utf8_codebooks_give_one_clean_error(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("Top:\n" + "".join("  " * i + f"- L{i}:\n" for i in range(1, 1501)), encoding="utf-8")
    with pytest.raises(CodebookError, match="nested more than 100 theme levels deep"):
        load_codebook(deep)
    deep_json = tmp_path / "deep.json"
    deep_json.write_text('{"themes": [' + '{"name": "x", "children": [' * 1500 + '{"name": "y"}' + "]}" * 1500
                         + "]}", encoding="utf-8")
    with pytest.raises(CodebookError, match="nested too deeply"):
        load_codebook(deep_json)
    chain = [{"name": f"L{i}", "parent": f"L{i - 1}"} if i else {"name": "L0"} for i in range(3000)]
    with pytest.raises(CodebookError, match="nested more than 100 levels deep"):
        Codebook.from_dict({"themes": chain})
    nested: dict = {"name": "L0"}
    node = nested
    for i in range(1, 150):
        node["children"] = [{"name": f"L{i}"}]
        node = node["children"][0]
    with pytest.raises(CodebookError, match="nested more than 100 levels deep"):
        Codebook.from_dict({"themes": [nested]})
    ok = Codebook.from_dict({"themes": chain[:101]})  # 100 levels below the top are fine
    assert max(t.depth for t in ok) == 100 and len(ok.descendants("L0")) == 100
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("Caf\u00e9:\n  - Th\u00e9\n".encode("latin-1"))
    with pytest.raises(CodebookError, match=r"is not UTF-8 text \(byte 0xe9 on line 1; Latin-1 or Windows-1252\?\)"
                                            r"\. Save the file as UTF-8"):
        load_codebook(latin)


# ---- suggestions read back by id ---------------------------------------------------------------
def test_read_suggested_ids_reads_ids_and_lets_a_coder_edit_win():
    cb = Codebook.from_dict(SURVEY)
    table = pd.DataFrame({
        "doc_id": ["1", "2", "3", "4", "5"],
        "suggested": ["words", "words|tone", "change > words", "", "words"],
        "suggested_ids": ["change.words", "remove.words|change.tone", "change.words", "", "words"],
    })
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing was edited: no warning
        got = read_suggested_ids(table, cb)
    # rows 1-2: the display names are ambiguous but match the ids; row 3: a path naming the same theme
    assert got == [["change.words"], ["remove.words", "change.tone"], ["change.words"], [], ["words"]]
    edited = table.assign(suggested=["tone", "words|tone", "add > sentence", "", "words"])
    with pytest.warns(UserWarning, match=r"in 2 rows \(row 1 \(doc_id '1'\), row 3 \(doc_id '3'\)\); a coder "
                                         r"edited it, so those rows are read from 'suggested'"):
        got = read_suggested_ids(edited, cb)
    assert got[0] == ["change.tone"] and got[2] == ["add.sentence"] and got[1] == ["remove.words", "change.tone"]
    with pytest.raises(CodebookError, match=r"row 1 \(doc_id '1'\), column 'suggested_ids': 'old.id' is not the id"):
        read_suggested_ids(table.assign(suggested_ids=["old.id", "", "", "", ""], suggested=""), cb)


# ---- real frameworks with repeated names (../shared/data) ---------------------------------------
@pytest.mark.needs_data
def test_napire_codes_read_with_their_sheet_and_none_code(shared_data):
    responses = pd.read_csv(shared_data / "napire2018" / "responses.csv", dtype=str, keep_default_na=False)
    for kind in ("causes", "effects"):
        with pytest.warns(UserWarning, match="'NotCodable' .* declared in none_codes"):
            cb = load_codebook(shared_data / "napire2018" / f"codebook_{kind}.yaml", none_codes=["NotCodable"])
        rows = responses[responses["kind"] == kind]
        ids = read_codes(rows["codes"], cb, column="codes")
        assert len(ids) == len(rows)
        none = [i for i, (cell, got) in enumerate(zip(rows["codes"], ids)) if not got]
        assert all(rows["codes"].iloc[i] in ("NotCodable", "") for i in none)
    # effects: 'Incomplete Requirements' (Product) and 'Incomplete requirements' (not in the sheet)
    assert cb.get("Incomplete Requirements").theme_id == "product.incomplete-requirements"
    assert cb.get("Incomplete requirements").parent_id == "not-in-the-category-sheet"
    with pytest.raises(CodebookError) as info:
        cb.get("INCOMPLETE REQUIREMENTS")
    fixes = _fix_from(str(info.value))
    assert {cb.get(f).theme_id for f in fixes} == {"product.incomplete-requirements",
                                                   "not-in-the-category-sheet.incomplete-requirements"}


@pytest.mark.needs_data
def test_nhs_phase1_framework_with_same_named_subcategories(shared_data):
    data = pd.read_csv(shared_data / "nhs_fft" / "phase1_text_data.csv", dtype=str, keep_default_na=False)
    pairs = data[["label", "subcategory"]].drop_duplicates()
    framework: dict[str, list[str]] = {}
    for label, sub in pairs.itertuples(index=False):
        framework.setdefault(label, []).append(sub)
    cb = Codebook.from_dict(framework)
    same = [t.name for t in cb.roots() if cb.itself(t.theme_id).theme_id != t.theme_id]
    assert sorted(same) == ["Care received", "Communication", "Environment/ facilities", "Miscellaneous"]
    # every label written as a path reads as its sub-category, with no warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = read_codes(data["label"] + " > " + data["subcategory"], cb)
    assert all(len(p) == 1 and cb.by_id(p[0]).depth == 1 for p in paths)
    # written as sub-category names: the same-named ones warn once each; 'Nothing to improve' is
    # under two labels, spelled alike, so it is an error naming both paths
    named = data[data["subcategory"] != "Nothing to improve"]
    with pytest.warns(UserWarning) as record:
        by_name = read_codes(named["subcategory"], cb)
    assert by_name == [p for p, s in zip(paths, data["subcategory"]) if s != "Nothing to improve"]
    counts = {t: int((named["subcategory"] == t).sum()) for t in same}
    for w in record:
        name = str(w.message).split("'")[3]
        assert f"in {counts[name]} rows" in str(w.message)
    with pytest.raises(CodebookError, match=r"'Nothing to improve' is ambiguous; it names 2 themes: \"Couldn't be "
                                            r"improved > Nothing to improve\""):
        read_codes(data["subcategory"], cb)


def test_codes_joined_by_another_separator_are_read_as_several_codes() -> None:
    cb = Codebook.from_dict({"Care": ["Food", "Staff, nurses"], "Access": ["Parking"]})
    with pytest.warns(UserWarning, match=r"2 codes cells hold several codes joined by ';' instead of '\|' "
                                         r"\(rows 1, 3\)"):
        got = read_codes(["Food; Parking", "Staff, nurses", "Parking;Access > Parking|Food"], cb)
    # a name holding a comma is still one name; each part is read by the addressing rule
    assert got == [["care.food", "access.parking"], ["care.staff-nurses"],
                   ["access.parking", "care.food"]]
    with pytest.warns(UserWarning, match=r"1 codes cell holds several codes joined by '\\n'"):
        assert read_codes(["Food\nParking"], cb) == [["care.food", "access.parking"]]
    with pytest.warns(UserWarning, match=r"joined by ','"):
        assert read_codes(["Food, Parking"], cb) == [["care.food", "access.parking"]]
    # a part that names no theme is still an error, naming the whole string
    with pytest.raises(CodebookError, match=r"row 1: Codebook 'codebook': no theme named 'Food; Parkin'"):
        read_codes(["Food; Parkin"], cb)


def test_none_written_beside_themes_is_read_as_the_themes_with_a_warning() -> None:
    cb = Codebook.from_dict({"Care": ["Food", "Staff"], "Access": ["Parking"]}, none_codes=["NotCodable"])
    with pytest.warns(UserWarning, match=r"2 codes cells write 'none' \(or a none code\) together with themes "
                                         r"\(rows 1, 3\); each was read as its themes"):
        got = read_codes(["none|Food", "Parking", "Staff|NotCodable|Food", "NotCodable", "None of these"], cb)
    assert got == [["care.food"], ["access.parking"], ["care.staff", "care.food"], [], []]
    # 'none' alone (or the none code alone) is no theme and no warning; a theme named 'None' stays a theme
    import warnings as w

    with pytest.warns(UserWarning, match="'None' .* looks like a 'none of these themes' code"):
        named = Codebook.from_dict({"Care": ["Food", "None"]})
    with w.catch_warnings():
        w.simplefilter("error")
        assert read_codes(["none", "NotCodable|none"], cb) == [[], []]
        assert read_codes(["None|Food"], named) == [["care.none", "care.food"]]


def test_a_theme_named_like_a_none_code_is_warned_with_a_fix_that_works() -> None:
    tree = {"Input": ["Time", "NotCodable"], "People": ["Skills"]}
    with pytest.warns(UserWarning, match=r"'NotCodable' \(.*\) looks like a 'none of these themes' code but is read as "
                                         r"a theme.*none_codes=\['NotCodable'\] in Python"):
        cb = Codebook.from_dict(tree)
    assert "input.notcodable" in {t.theme_id for t in cb.themes}
    import warnings as w

    with w.catch_warnings(record=True) as seen:  # the fix: declared, it is no theme and no longer looks like one
        w.simplefilter("always")
        fixed = Codebook.from_dict(tree, none_codes=["NotCodable"])
    assert fixed.none_codes == ("NotCodable",) and "input.notcodable" not in {t.theme_id for t in fixed.themes}
    assert not any("looks like" in str(x.message) for x in seen)
    assert read_codes(["NotCodable", "Time|NotCodable"], fixed) == [[], ["input.time"]]


def test_a_yaml_error_is_one_line_with_its_place_and_the_fix_for_a_tab(tmp_path) -> None:
    path = tmp_path / "cb.yaml"
    path.write_text("Input:\n  - Time\n\t- Other\n", encoding="utf-8")
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    msg = str(info.value)
    assert "\n" not in msg and "is not valid YAML: line 3, column 1:" in msg and "Indent with spaces" in msg
    path.write_text("Input:\n  - Time\n  - Other\n", encoding="utf-8")  # the fix it gives works
    assert [t.name for t in load_codebook(path).leaves()] == ["Time", "Other"]
