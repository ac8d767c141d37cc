"""qa.web.quick_import: gradio imports without rewriting its type stubs, and a gradio whose
stub writer is renamed or gone still imports as before."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from qa.web import quick_import

META = """
WRITES = []

def create_or_modify_pyi(cls, name, events):
    WRITES.append(name)

class ComponentMeta(type):
    def __new__(mcs, name, bases, attrs):
        cls = super().__new__(mcs, name, bases, attrs)
        create_or_modify_pyi(cls, name, [])
        return cls
"""
COMPONENTS = """
from {pkg}.component_meta import ComponentMeta

class Textbox(metaclass=ComponentMeta):
    pass
"""


@pytest.fixture
def fake_gradio(tmp_path, monkeypatch):
    """A package shaped like gradio: component classes defined after component_meta runs."""

    def make(pkg: str, meta: str = META):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text(f"from {pkg} import components\n")
        (tmp_path / pkg / "component_meta.py").write_text(textwrap.dedent(meta))
        (tmp_path / pkg / "components.py").write_text(COMPONENTS.format(pkg=pkg))
        monkeypatch.setattr(quick_import, "MODULE", f"{pkg}.component_meta")
        return pkg

    monkeypatch.syspath_prepend(str(tmp_path))
    yield make
    for name in [m for m in sys.modules if m.startswith("fakegradio")]:
        del sys.modules[name]


def test_components_are_defined_without_writing_stubs(fake_gradio):
    pkg = fake_gradio("fakegradio_a")
    with quick_import.without_stub_writer():
        mod = __import__(pkg)
    meta = sys.modules[f"{pkg}.component_meta"]
    assert meta.WRITES == [] and mod.components.Textbox.__name__ == "Textbox"
    assert not any(isinstance(f, quick_import._Finder) for f in sys.meta_path)


def test_a_renamed_writer_is_left_alone(fake_gradio):
    pkg = fake_gradio("fakegradio_b", META.replace("create_or_modify_pyi", "write_stubs"))
    with quick_import.without_stub_writer():
        __import__(pkg)
    assert sys.modules[f"{pkg}.component_meta"].WRITES == ["Textbox"]  # imported as before


def test_outside_the_block_nothing_changes(fake_gradio):
    pkg = fake_gradio("fakegradio_c")
    __import__(pkg)
    assert sys.modules[f"{pkg}.component_meta"].WRITES == ["Textbox"]


def test_real_gradio_loads_with_the_writer_skipped():
    code = (
        "import sys, qa.web.app, gradio, gradio.component_meta as m, qa.web.quick_import as q; "
        "print(m.create_or_modify_pyi is q._skip_stub, "
        "any(isinstance(f, q._Finder) for f in sys.meta_path), gradio.Textbox.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "Textbox"]
