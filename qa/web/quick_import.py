"""Import gradio without its type-stub writer: ~2.8 of the ~3.1 s gradio takes to import here.

gradio 6 (gradio/component_meta.py) regenerates a .pyi stub for each of its ~80 component
classes every time it is imported: it reads the component's source, parses it with `ast` and
rewrites the .pyi inside site-packages when it differs. The stubs only serve type checkers and
IDEs (the wheel ships them already) and nothing reads them at run time, so `qa serve` skips the
writer: its page answers ~2.8 s sooner, and the server never writes into the installation.

The writer is replaced right after gradio.component_meta executes, before any component class
is defined. If a gradio release renames or drops it, nothing is patched and gradio imports as
it always did (tests/unit/web/test_quick_import.py).
"""

from __future__ import annotations

import importlib.abc
import sys
from contextlib import contextmanager

MODULE, WRITER = "gradio.component_meta", "create_or_modify_pyi"


def _skip_stub(*args, **kwargs) -> None:
    """Stands in for gradio's stub writer: nothing to write."""
    return None


def _patch(module) -> None:
    if callable(getattr(module, WRITER, None)):
        setattr(module, WRITER, _skip_stub)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds gradio.component_meta through the other finders, then patches it once executed."""

    def find_spec(self, name, path, target=None):
        if name != MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                run = spec.loader.exec_module

                def exec_module(module, run=run):
                    run(module)
                    _patch(module)

                spec.loader.exec_module = exec_module  # this spec's own loader instance
                return spec
        return None


@contextmanager
def without_stub_writer():
    """Inside it, importing gradio (for the first time) skips the .pyi writer."""
    if MODULE in sys.modules:  # already imported: only component classes defined later gain
        _patch(sys.modules[MODULE])
        yield
        return
    finder = _Finder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
