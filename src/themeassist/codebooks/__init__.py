"""Built-in codebooks shipped with themeassist.

>>> from themeassist import codebooks
>>> codebooks.available()
['iapt_wellbeing']
>>> len(codebooks.iapt_wellbeing().leaves())
18
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from importlib import resources

from themeassist.codebook import Codebook
from themeassist.exceptions import CodebookError

__all__ = ["available", "iapt_wellbeing", "is_builtin", "load_builtin"]

_FILES = {"iapt_wellbeing": "iapt_wellbeing.yaml"}
_ALIASES = {"iapt": "iapt_wellbeing"}


def _key(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return _ALIASES.get(key, key)


def available() -> list[str]:
    """Names of the built-in codebooks (aliases such as ``"iapt"`` are accepted too)."""
    return sorted(_FILES)


def is_builtin(name: str) -> bool:
    """True when ``name`` (or an alias of it) is a built-in codebook."""
    return _key(name) in _FILES


@lru_cache(maxsize=None)
def _load(key: str) -> Codebook:
    text = resources.files(__name__).joinpath(_FILES[key]).read_text(encoding="utf-8")
    return dataclasses.replace(Codebook.from_yaml(text, name=key), source=f"builtin:{key}")


def load_builtin(name: str) -> Codebook:
    """Load a built-in codebook by name or alias (codebooks are immutable, so the result is shared).

    Examples
    --------
    >>> load_builtin("iapt").source
    'builtin:iapt_wellbeing'
    """
    if not is_builtin(name):
        raise CodebookError(f"No built-in codebook named {name!r}; available: {', '.join(available())} "
                            "(alias 'iapt'). To load a file, pass a path ending in .yaml, .yml or .json.")
    return _load(_key(name))


def iapt_wellbeing() -> Codebook:
    """Wellbeing of IAPT psychological practitioners (Harper, Bhutani, Rao & Clarke, 2020).

    One domain, "The Person behind the Professional: Health & Wellbeing", with four
    over-arching themes and 18 sub-themes; descriptions paraphrase the paper, keywords and
    example comments are invented for matching (they are not quotes from participants).

    Examples
    --------
    >>> cb = iapt_wellbeing()
    >>> cb.get("Resources").path_str
    'The Person behind the Professional: Health & Wellbeing > Workplace Culture & Context > Resources'
    """
    return load_builtin("iapt_wellbeing")
