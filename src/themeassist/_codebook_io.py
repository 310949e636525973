"""Codebook files (private; see :mod:`themeassist.codebook`): reading YAML/JSON text safely, and
the canonical nested form that is written back.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from themeassist._codebook_parse import MAX_DEPTH, MAX_NODES, slugify
from themeassist.exceptions import CodebookError

class StrictSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (plain data only) that refuses a key repeated in one mapping.

    Plain ``yaml.safe_load`` keeps the last of two equal keys, which would silently drop themes.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:  # unhashable key: SafeLoader reports it
                continue
            if first != line:
                raise CodebookError(f"Codebook: key {key!r} appears twice in one mapping (lines {first} and "
                                    f"{line}); YAML would keep only the last. Rename or merge one of them.")
        return super().construct_mapping(node, deep=deep)


def check_yaml_events(text: str, source: str) -> None:
    """Refuse aliases, very deep nesting and huge node counts before any YAML node is built.

    The event parser is iterative, so this costs one linear pass; building nodes is recursive and
    expands aliases (an 881-byte file of nested aliases would expand to millions of nodes).
    """
    depth = nodes = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1 if event.start_mark else "?"
            raise CodebookError(f"Codebook: {source} uses a YAML alias (*{event.anchor}, line {line}); codebooks "
                                "must not use anchors and aliases. Write the repeated part out in full.")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > 2 * MAX_DEPTH + 5:
                raise CodebookError(f"Codebook: {source} is nested more than {MAX_DEPTH} theme levels deep "
                                    f"(line {event.start_mark.line + 1}); themeassist reads at most {MAX_DEPTH}.")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        nodes += 1
        if nodes > MAX_NODES:
            raise CodebookError(f"Codebook: {source} has more than {MAX_NODES:,} YAML nodes; is it a codebook?")


def no_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CodebookError(f"Codebook: key {key!r} appears twice in one JSON object. Rename or merge one.")
        out[key] = value
    return out


def is_file(text: str) -> bool:
    try:
        return "\n" not in text and Path(text).is_file()
    except (OSError, ValueError):
        return False


def read_source(path_or_text: str | os.PathLike, suffixes: tuple[str, ...]) -> tuple[str, str, str | None]:
    """Return (text, source, file stem) from a path or from the text itself."""
    s = os.fspath(path_or_text)
    if isinstance(path_or_text, os.PathLike) or is_file(s) or ("\n" not in s and s.lower().endswith(suffixes)):
        p = Path(s)
        if not p.is_file():
            raise CodebookError(f"Codebook: file not found: {s!r}.")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise CodebookError(f"Codebook: cannot read {s!r}: {exc.strerror or exc}.") from exc
        try:
            return data.decode("utf-8-sig"), str(p), p.stem
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise CodebookError(f"Codebook: {s!r} is not UTF-8 text (byte {data[exc.start]:#04x} on line {line}; "
                                "Latin-1 or Windows-1252?). Save the file as UTF-8 and load it again.") from None
    return s, "<text>", None



def to_nested(codebook: Any) -> dict[str, Any]:
    """The canonical nested form of a codebook (``id`` only where it differs from the derived one)."""
    by_id = {t.theme_id: t for t in codebook.themes}

    def node(t: Any) -> dict[str, Any]:
        slug = slugify(t.name)
        out: dict[str, Any] = {"name": t.name}
        if t.theme_id != (f"{t.parent_id}.{slug}" if t.parent_id else slug):
            out["id"] = t.theme_id
        for key in ("description", "keywords", "examples", "aliases"):
            if getattr(t, key):
                out[key] = getattr(t, key) if key == "description" else list(getattr(t, key))
        if t.child_ids:
            out["children"] = [node(by_id[c]) for c in t.child_ids]
        return out

    head: dict[str, Any] = {"name": codebook.name}
    if codebook.none_codes:
        head["none_codes"] = list(codebook.none_codes)
    return {**head, "themes": [node(t) for t in codebook.themes if t.parent_id is None]}
