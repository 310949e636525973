"""Tests for themeassist.io.refi: REFI-QDA codebook (.qdc) and project (.qdpx) exchange."""

from __future__ import annotations

import io
import re
import zipfile

import pandas as pd
import pytest
from defusedxml import ElementTree as SafeET

from themeassist.codebook import Codebook
from themeassist.exceptions import CodebookError, CorpusError, QDAFormatError
from themeassist.io.refi import (
    HUMAN_USER_NAME,
    MACHINE_USER_NAME,
    export_qdc,
    export_qdpx,
    import_qdc,
    import_qdpx,
)

P = "{urn:QDA-XML:project:1.0}"
C = "{urn:QDA-XML:codebook:1.0}"
GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")

# Texts whose code-point length differs from their UTF-16 and UTF-8 lengths.
TEXTS = {
    "c1": "Kind staff 😀",  # 12 code points (13 UTF-16 units, 15 UTF-8 bytes)
    "c2": "الموظفون لطفاء",  # Arabic, right-to-left: 14 code points
    "c3": "Waited 3 hrs.\r\nRude & <slow> \"triage\"",  # CRLF, XML specials: 37
    "c4": "=HYPERLINK(\"x\") cafe\u0301",  # formula-looking, e + combining accent: 21
    "c5": "",  # an empty comment
}
LENGTHS = {"c1": 12, "c2": 14, "c3": 37, "c4": 21, "c5": 0}


@pytest.fixture
def codebook() -> Codebook:
    return Codebook.from_dict({
        "name": "staff study",
        "themes": [
            {"name": "Staff", "description": "Anything about staff.", "children": [
                {"name": "Attitude", "description": "Kindness, rudeness.", "children": [
                    {"name": "Kindness"}]},
                {"name": "Competence"},
            ]},
            {"name": "Access & waiting", "children": [{"name": "Waiting times"}]},
            {"name": "Other"},
        ],
    })


@pytest.fixture
def corpus() -> pd.DataFrame:
    return pd.DataFrame({
        "doc_id": list(TEXTS),
        "text": list(TEXTS.values()),
        "period": [2021, 2021, 2022, 2022, 2023],
        "site": ["North", "South", None, "North", "South"],
        "rating": [4.5, 1.0, 2.25, 0.00001, 3.0],
    })


@pytest.fixture
def codings() -> pd.DataFrame:
    return pd.DataFrame({
        "doc_id": ["c1", "c1", "c2", "c3", "c3", "c3"],
        "theme_id": ["staff.attitude.kindness", "staff", "staff.attitude",
                     "access-waiting.waiting-times", "staff.attitude", "access-waiting.waiting-times"],
    })


@pytest.fixture
def suggestions() -> pd.DataFrame:
    return pd.DataFrame({"doc_id": ["c1", "c4"], "theme_id": ["other", "staff.competence"],
                         "score": [0.61, 0.875]})


@pytest.fixture
def qdpx(tmp_path, corpus, codings, codebook, suggestions):
    return export_qdpx(corpus, codings, codebook, tmp_path / "out" / "study.qdpx",
                       variable_cols=["site", "rating"], suggestions=suggestions)


def _project(path):
    with zipfile.ZipFile(path) as zf:
        return SafeET.fromstring(zf.read("project.qde")), {n: zf.read(n) for n in zf.namelist()}


def _frame(cb: Codebook) -> pd.DataFrame:
    return cb.to_frame()[["theme_id", "name", "parent_id", "depth", "description"]]


# ----------------------------------------------------------------------------- codebook .qdc


def test_qdc_round_trip_keeps_codes_hierarchy_and_descriptions(tmp_path, codebook):
    path = export_qdc(codebook, tmp_path / "cb.qdc")
    back = import_qdc(path)
    pd.testing.assert_frame_equal(_frame(back), _frame(codebook))
    assert back.name == "cb"
    assert [t.parent_id for t in back.themes] == [
        None, "staff", "staff.attitude", "staff", None, "access-waiting", None]


def test_qdc_structure_follows_codebook_xsd(tmp_path, codebook):
    root = SafeET.fromstring((export_qdc(codebook, tmp_path / "cb.qdc")).read_bytes())
    assert root.tag == f"{C}CodeBook" and root.get("origin").startswith("themeassist")
    top = root.find(f"{C}Codes").findall(f"{C}Code")
    assert [c.get("name") for c in top] == ["Staff", "Access & waiting", "Other"]
    staff = top[0]
    assert staff.find(f"{C}Description").text == "Anything about staff."
    assert [c.get("name") for c in staff.findall(f"{C}Code")] == ["Attitude", "Competence"]
    assert staff.find(f"{C}Code").find(f"{C}Code").get("name") == "Kindness"
    codes = list(root.iter(f"{C}Code"))
    assert len(codes) == 7
    for code in codes:
        assert GUID.match(code.get("guid")) and code.get("isCodable") == "true" and code.get("name")
    assert len({c.get("guid") for c in codes}) == 7
    # Description must come before nested codes (xsd:sequence)
    assert [child.tag for child in staff][:1] == [f"{C}Description"]


def test_exports_are_reproducible(tmp_path, codebook, corpus, codings, suggestions):
    a = export_qdc(codebook, tmp_path / "a.qdc").read_bytes()
    assert export_qdc(codebook, tmp_path / "b.qdc").read_bytes() == a
    kw = dict(variable_cols=["site"], suggestions=suggestions)
    one = export_qdpx(corpus, codings, codebook, tmp_path / "a.qdpx", **kw).read_bytes()
    two = export_qdpx(corpus, codings, codebook, tmp_path / "b.qdpx", **kw).read_bytes()
    assert one == two
    # the same theme gets the same code GUID in the .qdc and the .qdpx
    qdc_guids = {c.get("guid") for c in SafeET.fromstring(a).iter(f"{C}Code")}
    root, _ = _project(tmp_path / "a.qdpx")
    assert {c.get("guid") for c in root.iter(f"{P}Code")} == qdc_guids
    assert not any(el.get("creationDateTime") for el in root.iter())  # no clock in the output
    from datetime import datetime

    stamped = export_qdpx(corpus, codings, codebook, tmp_path / "c.qdpx", created=datetime(2024, 5, 6, 7, 8, 9))
    root, _ = _project(stamped)
    assert root.get("creationDateTime") == "2024-05-06T07:08:09Z"
    assert {s.get("creationDateTime") for s in root.iter(f"{P}TextSource")} == {"2024-05-06T07:08:09Z"}


def test_export_qdc_writes_atomically_over_old_file(tmp_path, codebook):
    target = tmp_path / "cb.qdc"
    target.write_text("old")
    export_qdc(codebook, target)
    assert target.read_bytes().startswith(b"<?xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cb.qdc"]


# ----------------------------------------------------------------------------- project .qdpx


def test_qdpx_round_trip_keeps_text_codes_and_variables(qdpx, codebook):
    back_cb, frame = import_qdpx(qdpx)
    pd.testing.assert_frame_equal(_frame(back_cb), _frame(codebook))
    assert back_cb.name == "staff study"
    assert frame.columns.tolist() == ["doc_id", "text", "codes", "theme_ids", "coder",
                                      "period", "site", "rating"]
    assert frame["doc_id"].tolist() == list(TEXTS)
    assert frame["text"].tolist() == list(TEXTS.values())  # exact, CRLF and emoji included
    assert frame["codes"].tolist() == [
        "Staff|Kindness", "Attitude", "Attitude|Waiting times", "", ""]
    assert frame["theme_ids"].tolist() == [
        "staff|staff.attitude.kindness", "staff.attitude",
        "staff.attitude|access-waiting.waiting-times", "", ""]
    assert frame["coder"].tolist() == [HUMAN_USER_NAME] * 3 + ["", ""]
    assert frame["period"].tolist() == [2021, 2021, 2022, 2022, 2023]
    assert frame["site"].tolist()[:2] == ["North", "South"] and pd.isna(frame.loc[2, "site"])
    assert frame["rating"].tolist() == [4.5, 1.0, 2.25, 0.00001, 3.0]


def test_qdpx_machine_suggestions_are_a_separate_coder(qdpx):
    _, frame = import_qdpx(qdpx, include_machine=True)
    machine = frame[frame["coder"] == MACHINE_USER_NAME]
    assert machine[["doc_id", "codes", "theme_ids"]].values.tolist() == [
        ["c1", "Other", "other"], ["c4", "Competence", "staff.competence"]]
    assert len(frame) == 6  # c1 twice (human + machine), c4 now coded by the machine only
    root, _ = _project(qdpx)
    notes = [d.text for d in root.iter(f"{P}Description")]
    assert "themeassist suggestion (score 0.8750)" in notes


def test_qdpx_structure_follows_project_xsd(qdpx, corpus):
    root, files = _project(qdpx)
    assert root.tag == f"{P}Project" and root.get("name") == "staff study"
    assert [child.tag for child in root] == [f"{P}Users", f"{P}CodeBook", f"{P}Variables", f"{P}Sources"]
    users = {u.get("guid"): u.get("name") for u in root.iter(f"{P}User")}
    assert sorted(users.values()) == sorted([HUMAN_USER_NAME, MACHINE_USER_NAME])
    code_guids = {c.get("guid") for c in root.iter(f"{P}Code")}
    variables = {v.get("guid"): (v.get("name"), v.get("typeOfVariable")) for v in root.iter(f"{P}Variable")}
    assert sorted(variables.values()) == [("period", "Integer"), ("rating", "Float"), ("site", "Text")]
    sources = root.find(f"{P}Sources").findall(f"{P}TextSource")
    assert [s.get("name") for s in sources] == list(TEXTS)
    assert sorted(files) == sorted(["project.qde"] + [f"Sources/{s.get('guid')}.txt" for s in sources])
    all_guids = [el.get("guid") for el in root.iter() if el.get("guid") is not None]
    assert len(all_guids) == len(set(all_guids)) and all(GUID.match(g) for g in all_guids)
    for source in sources:
        doc_id, guid = source.get("name"), source.get("guid")
        assert source.get("plainTextPath") == f"internal://{guid}.txt"
        assert source.get("creatingUser") in users
        assert files[f"Sources/{guid}.txt"].decode("utf-8") == TEXTS[doc_id]
        tags = [child.tag for child in source]  # xsd:sequence order
        assert tags == sorted(tags, key=[f"{P}PlainTextSelection", f"{P}VariableValue"].index)
        for sel in source.findall(f"{P}PlainTextSelection"):
            assert int(sel.get("startPosition")) == 0
            assert int(sel.get("endPosition")) == LENGTHS[doc_id]  # Unicode code points
            assert sel.get("creatingUser") in users
            coding = sel.find(f"{P}Coding")
            assert GUID.match(coding.get("guid")) and coding.get("creatingUser") in users
            assert coding.find(f"{P}CodeRef").get("targetGUID") in code_guids
        for vv in source.findall(f"{P}VariableValue"):
            assert vv.find(f"{P}VariableRef").get("targetGUID") in variables
    c1 = sources[0]
    values = [[child.tag[len(P):], child.text] for vv in c1.findall(f"{P}VariableValue") for child in vv][1::2]
    assert values == [["IntegerValue", "2021"], ["TextValue", "North"], ["FloatValue", "4.5"]]
    c3 = sources[2]  # site missing: no VariableValue for it
    assert len(c3.findall(f"{P}VariableValue")) == 2
    c4_float = [vv for vv in sources[3].findall(f"{P}VariableValue")][-1]
    assert c4_float.find(f"{P}FloatValue").text == "0.00001"  # xsd:decimal, no exponent


def test_unicode_offsets_select_exactly_the_comment(qdpx):
    root, files = _project(qdpx)
    for source in root.iter(f"{P}TextSource"):
        text = files[f"Sources/{source.get('guid')}.txt"].decode("utf-8")
        for sel in source.iter(f"{P}PlainTextSelection"):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert text[start:end] == text == TEXTS[source.get("name")]


def test_export_qdpx_rejects_bad_input_with_clear_messages(tmp_path, corpus, codings, codebook):
    out = tmp_path / "x.qdpx"
    bad = pd.concat([codings, pd.DataFrame({"doc_id": ["c2"], "theme_id": ["nope"]})], ignore_index=True)
    with pytest.raises(CodebookError, match=r"codings rows 7 .*'nope'"):
        export_qdpx(corpus, bad, codebook, out)
    with pytest.raises(CorpusError, match=r"codings rows 1 .*'zz'"):
        export_qdpx(corpus, pd.DataFrame({"doc_id": ["zz"], "theme_id": ["staff"]}), codebook, out)
    # the 1st row repeated as the 6th: positions, not the index labels (0 and 0)
    with pytest.raises(CorpusError, match="unique and present; rows 1, 6 are not"):
        export_qdpx(pd.concat([corpus, corpus.iloc[:1]]), codings, codebook, out)
    with pytest.raises(CorpusError, match=r"rows 2 \(doc_id 'c2'\) do not"):
        export_qdpx(corpus.assign(text=["a", None, "b", "c", "d"]), codings, codebook, out)
    with pytest.raises(CorpusError, match="export_qdpx: the corpus lacks column 'comment' .*Pass id_col=, text_col="):
        export_qdpx(corpus, codings, codebook, out, text_col="comment")
    with pytest.raises(CorpusError, match="score"):
        export_qdpx(corpus, codings, codebook, out, suggestions=codings)
    assert not out.exists()


def test_export_without_codings_or_variables(tmp_path, corpus, codebook):
    path = export_qdpx(corpus[["doc_id", "text"]], None, codebook, tmp_path / "bare.qdpx")
    root, _ = _project(path)
    assert [child.tag for child in root] == [f"{P}Users", f"{P}CodeBook", f"{P}Sources"]
    _, frame = import_qdpx(path)
    assert frame["codes"].tolist() == [""] * 5 and frame["text"].tolist() == list(TEXTS.values())


def test_integer_doc_ids_become_source_names(tmp_path, codebook):
    corpus = pd.DataFrame({"doc_id": [10, 20], "text": ["a", "b"]})
    codings = pd.DataFrame({"doc_id": [20], "theme_id": ["other"]})
    _, frame = import_qdpx(export_qdpx(corpus, codings, codebook, tmp_path / "ints.qdpx"))
    assert frame[["doc_id", "codes"]].values.tolist() == [["10", ""], ["20", "Other"]]


# ----------------------------------------------------------------------------- foreign projects


def _zip(tmp_path, entries: dict[str, bytes | str], name="in.qdpx"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry, data in entries.items():
            zf.writestr(entry, data)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


G = "{{{0}0000000-0000-4000-8000-00000000000{1}}}"  # brace form, lower case hex as some tools write

FOREIGN = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="from another tool">
 <Users><User guid="{G.format('a', 1)}" name="Ann"/><User guid="{G.format('a', 2)}" name="Bob"/></Users>
 <CodeBook><Codes>
  <Code guid="{G.format('c', 1)}" name="Staff" isCodable="true"><Code guid="{G.format('c', 2)}" name="Rude staff" isCodable="true"/></Code>
  <Code guid="{G.format('c', 3)}" name="Parking" isCodable="true"><Description>Car parks</Description></Code>
 </Codes></CodeBook>
 <Variables><Variable guid="{G.format('e', 1)}" name="ward" typeOfVariable="Text"/></Variables>
 <Cases><Case guid="{G.format('f', 1)}" name="case 1">
  <VariableValue><VariableRef targetGUID="{G.format('e', 1)}"/><TextValue>A&amp;E</TextValue></VariableValue>
  <SourceRef targetGUID="{G.format('d', 1)}"/></Case></Cases>
 <Sources>
  <TextSource guid="{G.format('d', 1)}" name="doc one" plainTextPath="internal://one.txt" creatingUser="{G.format('a', 1)}">
   <PlainTextSelection guid="{G.format('b', 1)}" startPosition="0" endPosition="4">
    <Coding guid="{G.format('b', 2)}" creatingUser="{G.format('a', 2)}"><CodeRef targetGUID="{G.format('c', 2)}"/></Coding>
   </PlainTextSelection>
   <Coding guid="{G.format('b', 3)}"><CodeRef targetGUID="{G.format('c', 3)}"/></Coding>
  </TextSource>
  <TextSource guid="{G.format('d', 2)}" name="doc two"><PlainTextContent>Inline text</PlainTextContent></TextSource>
 </Sources>
</Project>"""


def test_import_foreign_project_with_cases_inline_text_and_two_coders(tmp_path):
    path = _zip(tmp_path, {"project.qde": FOREIGN, "sources/one.txt": "Rude, no parking"})
    codebook, frame = import_qdpx(path)
    assert [(t.theme_id, t.parent_id) for t in codebook.themes] == [
        ("staff", None), ("staff.rude-staff", "staff"), ("parking", None)]
    assert codebook.themes[2].description == "Car parks"
    assert frame[["doc_id", "codes", "coder", "ward"]].fillna("-").values.tolist() == [
        ["doc one", "Rude staff", "Bob", "A&E"],  # coded on a 4-character selection by Bob
        ["doc one", "Parking", "Ann", "A&E"],  # coded on the source, falls back to its creator
        ["doc two", "", "", "-"],
    ]
    assert frame["text"].tolist() == ["Rude, no parking"] * 2 + ["Inline text"]


def test_import_rejects_dangling_coderef_and_missing_source(tmp_path):
    dangling = FOREIGN.replace(f'<CodeRef targetGUID="{G.format("c", 3)}"', f'<CodeRef targetGUID="{G.format("c", 9)}"')
    with pytest.raises(QDAFormatError, match="does not name a code"):
        import_qdpx(_zip(tmp_path, {"project.qde": dangling, "Sources/one.txt": "xxxxx"}))
    with pytest.raises(QDAFormatError, match="internal://one.txt.*not in the archive"):
        import_qdpx(_zip(tmp_path, {"project.qde": FOREIGN}))
    with pytest.raises(QDAFormatError, match="no project.qde"):
        import_qdpx(_zip(tmp_path, {"Sources/one.txt": "x"}))
    with pytest.raises(QDAFormatError, match="expected '\\{urn:QDA-XML:project:1.0\\}Project'"):
        import_qdpx(_zip(tmp_path, {"project.qde": "<Project name='no namespace'/>"}))
    (tmp_path / "junk.qdpx").write_bytes(b"not a zip")
    with pytest.raises(QDAFormatError, match="not a readable zip"):
        import_qdpx(tmp_path / "junk.qdpx")


# ----------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("entry", ["../evil.txt", "Sources/../../evil.txt", "/etc/evil.txt",
                                   "C:\\evil.txt", "..\\evil.txt"])
def test_import_refuses_unsafe_entry_names(tmp_path, qdpx, entry):
    with zipfile.ZipFile(qdpx) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries[entry] = b"owned"
    with pytest.raises(QDAFormatError, match=re.escape(repr(entry))):
        import_qdpx(_zip(tmp_path, entries))
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_import_refuses_too_many_files_and_zip_bombs(tmp_path, qdpx):
    with pytest.raises(QDAFormatError, match="6 entries exceed the limit max_files=5"):
        import_qdpx(qdpx, max_files=5)
    import_qdpx(qdpx, max_files=6)  # exactly at the limit is fine
    with pytest.raises(QDAFormatError, match="archive size .* exceeds the limit max_bytes=100;"):
        import_qdpx(qdpx, max_bytes=100)
    bomb = _zip(tmp_path, {"project.qde": FOREIGN, "Sources/one.txt": b"\0" * 20_000_000})
    assert bomb.stat().st_size < 100_000  # 20 MB of zeros compresses to ~20 kB
    with pytest.raises(QDAFormatError, match="exceeds the limit max_bytes=1,000,000.*zip bomb"):
        import_qdpx(bomb, max_bytes=1_000_000)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<{root} xmlns="urn:QDA-XML:{ns}:1.0" name="&lol4;"/>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&xxe;"/>"""


def test_xml_bombs_and_external_entities_are_refused(tmp_path):
    with pytest.raises(QDAFormatError, match="billion laughs"):
        import_qdpx(_zip(tmp_path, {"project.qde": BILLION_LAUGHS.format(root="Project", ns="project")}))
    with pytest.raises(QDAFormatError, match="DTD"):
        import_qdpx(_zip(tmp_path, {"project.qde": XXE}))
    qdc = tmp_path / "bomb.qdc"
    qdc.write_text(BILLION_LAUGHS.format(root="CodeBook", ns="codebook"))
    with pytest.raises(QDAFormatError, match="billion laughs"):
        import_qdc(qdc)


def test_import_qdc_errors(tmp_path):
    big = tmp_path / "big.qdc"
    big.write_bytes(b" " * 2000)
    with pytest.raises(QDAFormatError, match="exceed max_bytes=1,000"):
        import_qdc(big, max_bytes=1000)
    bad = tmp_path / "bad.qdc"
    bad.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                   '<Code guid="not-a-guid" name="X" isCodable="true"/></Codes></CodeBook>')
    with pytest.raises(QDAFormatError, match="'not-a-guid', which is not a GUID"):
        import_qdc(bad)
    broken = tmp_path / "broken.qdc"
    broken.write_text("<CodeBook")
    with pytest.raises(QDAFormatError, match="not well-formed"):
        import_qdc(broken)
    with pytest.raises(FileNotFoundError):
        import_qdc(tmp_path / "missing.qdc")


# ----------------------------------------------------------------------------- repeated and deep codes


def _guid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012X}"


def _qdc(tmp_path, codes_xml: str, name="codes.qdc"):
    path = tmp_path / name
    path.write_text(f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes_xml}</Codes></CodeBook>',
                    encoding="utf-8")
    return path


def test_import_two_codes_with_one_name_under_one_parent(tmp_path):
    xml = (f'<Code guid="{_guid(1)}" name="Staff" isCodable="true">'
           f'<Code guid="{_guid(2)}" name="Rude" isCodable="true"/><Code guid="{_guid(3)}" name="rude" isCodable="true"/>'
           f'<Code guid="{_guid(4)}" name="Kind" isCodable="true"/></Code>'
           f'<Code guid="{_guid(5)}" name="a|b > c" isCodable="true"/>')
    with pytest.warns(UserWarning, match=r"'a\|b > c' -> 'a/b - c'"):
        cb = import_qdc(_qdc(tmp_path, xml))
    assert [(t.theme_id, t.name) for t in cb] == [
        ("staff", "Staff"), (_guid(2), "Rude"), (_guid(3), "rude"), ("staff.kind", "Kind"), ("a-b-c", "a/b - c")]
    assert cb.get("Staff > rude").theme_id == _guid(3) and cb.get(_guid(2)).name == "Rude"
    with pytest.raises(CodebookError, match=r"'RUDE' is ambiguous; it names 2 themes"):
        cb.get("RUDE")
    assert Codebook.from_yaml(cb.to_yaml()) == cb  # the GUID ids are written out and read back


def test_import_of_a_3000_deep_code_tree_is_refused_quickly(tmp_path):
    xml = "".join(f'<Code guid="{_guid(i + 1)}" name="L{i}" isCodable="true">' for i in range(3000)) + "</Code>" * 3000
    with pytest.raises(QDAFormatError, match=r"codes are nested more than 100 levels deep \(below 'L100'\)"):
        import_qdc(_qdc(tmp_path, xml))
    ok = "".join(f'<Code guid="{_guid(i + 1)}" name="L{i}" isCodable="true">' for i in range(101)) + "</Code>" * 101
    assert max(t.depth for t in import_qdc(_qdc(tmp_path, ok, "ok.qdc"))) == 100


def test_reimport_with_the_codebook_keeps_explicit_ids_and_repeated_names(tmp_path):
    cb = Codebook.from_dict({"themes": [
        {"name": "words", "id": "w"}, {"name": "change", "children": ["words", "tone"]},
        {"name": "remove", "children": ["words"]}, {"name": "Care received", "children": ["Care received"]}]})
    corpus = pd.DataFrame({"doc_id": ["1", "2", "3"], "text": ["a", "b", "c"]})
    codings = pd.DataFrame({"doc_id": ["1", "1", "2", "3"],
                            "theme_id": ["w", "change.words", "remove.words", "care-received.care-received"]})
    path = export_qdpx(corpus, codings, cb, tmp_path / "p.qdpx")
    back, frame = import_qdpx(path, codebook=cb)
    assert [t.theme_id for t in back] == [t.theme_id for t in cb] and back.get("words").theme_id == "w"
    plain, frame2 = import_qdpx(path)  # without the codebook: ids derived from the names
    assert [t.theme_id for t in plain][1:] == [t.theme_id for t in cb][1:] and plain.themes[0].theme_id == "words"
    assert frame["theme_ids"].tolist() == ["w|change.words", "remove.words", "care-received.care-received"]
    # the readable codes read back as the same themes
    assert frame["codes"].tolist() == ["words|change > words", "remove > words", "Care received > Care received"]
    assert [back.resolve_codes(c) for c in frame["codes"]] == [c.split("|") for c in frame["theme_ids"]]
