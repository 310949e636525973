"""Importing BERTopic without the embedding stack it does not need here (the ``discover`` command).

``import bertopic`` imports sentence-transformers, and with it transformers and torch (most of the
9 s that ``discover`` spent importing), only to offer optional backends: a multimodal embedder, a
text-generation and a zero-shot representation. Discovery gives BERTopic its embeddings and never
uses those. BERTopic guards each of these imports itself (``try: ... except ModuleNotFoundError``,
leaving a ``NotInstalled`` placeholder), so :func:`import_bertopic` imports it while those three
packages answer "not installed", then puts the import system back: nothing of BERTopic's code is
changed, and sentence-transformers is imported normally later if an embedding must be computed
(an embedding-cache miss). Only when they are not imported yet, and only where it is switched on
(:data:`LIGHT_IMPORT`, set by the ``discover`` command: a process that uses BERTopic for nothing
else): in a notebook, ``import bertopic`` behaves as usual and its optional backends stay usable.
pandas' ``Styler`` is deferred the same way (:data:`_DEFERRED_MODULES`): BERTopic imports it under
such a guard for one plot discovery never draws, and it brings matplotlib.pyplot and jinja2 (1 s).
"""

from __future__ import annotations

import importlib.abc
import sys
from typing import Any

#: Import BERTopic without its optional embedding backends (the CLI turns this on).
LIGHT_IMPORT = False
_DEFERRED = ("sentence_transformers", "transformers", "torch")
#: Single modules deferred the same way: pandas' Styler (it imports matplotlib.pyplot and jinja2,
#: about 1 s), which BERTopic imports under the same guard for one plot that discovery never draws.
_DEFERRED_MODULES = ("pandas.io.formats.style",)


class _Deferred(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] in _DEFERRED or name in _DEFERRED_MODULES:
            raise ModuleNotFoundError(f"No module named {name!r} (deferred by themeassist)", name=name)
        return None


def light_bertopic_import(on: bool = True) -> None:
    """Import BERTopic without its optional embedding backends from now on in this process (see the
    module docstring); for a process that uses BERTopic for nothing else, such as the ``discover``
    command.

    Examples
    --------
    >>> light_bertopic_import(False)
    """
    global LIGHT_IMPORT
    LIGHT_IMPORT = bool(on)


def import_bertopic() -> Any:
    """``bertopic``, imported light when :data:`LIGHT_IMPORT` is on and it is not imported yet."""
    if "bertopic" in sys.modules or not LIGHT_IMPORT or any(m in sys.modules for m in _DEFERRED):
        import bertopic

        return bertopic
    finder = _Deferred()
    sys.meta_path.insert(0, finder)
    try:
        import bertopic
        import bertopic.representation  # noqa: F401 - its optional generators are guarded the same way
        import bertopic.vectorizers  # noqa: F401
    finally:
        sys.meta_path.remove(finder)
    return bertopic
