"""Every docstring example in the package runs and gives what it shows (examples marked
``# doctest: +SKIP`` need a fitted model or a file and are shown, not run)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import themeassist

MODULES = sorted(m.name for m in pkgutil.walk_packages(themeassist.__path__, "themeassist.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} fail (run python -m doctest -v)"
