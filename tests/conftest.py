"""Shared fixtures. The end-to-end fixtures use the real packaged e5 model and the real
corpus/ (built once per session into a temporary index); tests using them are marked `slow`.
Unit tests use the small ones: a five-article corpus built with a fake embedder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa import indexer, pipeline
from qa.config import Settings, quiet_third_party
from tests.samples import ARTICLES, SQUAD_EN, SQUAD_RU, FakeEmbedder

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"

quiet_third_party()


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """The user's model cache: exporting e5 once per machine, not once per test run."""
    return Settings().model_cache


@pytest.fixture(scope="session")
def embedder(model_cache):
    from qa.embed.embedder import Embedder

    return Embedder(model_cache)


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory, model_cache) -> Settings:
    """Settings pointing at a copy of the real corpus and a fresh index built from it."""
    root = tmp_path_factory.mktemp("real")
    shutil.copytree(ROOT / "corpus", root / "corpus")
    return Settings(
        corpus=root / "corpus", index=root / "index", model_cache=model_cache, quiet=True
    )


@pytest.fixture(scope="session")
def real_pipeline(real_settings, embedder):
    """A Pipeline over the real corpus with the real model (built once per session)."""
    from qa import pipeline

    pipeline.build(real_settings, embedder=embedder)
    return pipeline.Pipeline(real_settings, embedder=embedder)


# ---- small, fast: a fake embedder and a five-article corpus ----------------------------------


@pytest.fixture
def fake() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings for the five articles of tests.samples.ARTICLES, not yet built."""
    for rel, text in ARTICLES.items():
        (tmp_path / "corpus" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "corpus" / rel).write_text(text, encoding="utf-8")
    return Settings(corpus=tmp_path / "corpus", index=tmp_path / "index", quiet=True)


@pytest.fixture
def built(settings, fake) -> Settings:
    """The five articles built with the fake embedder (whose count is then reset)."""
    report = pipeline.build(settings, embedder=fake)
    assert len(report.added) == len(ARTICLES)
    fake.embedded.clear()
    return settings


@pytest.fixture
def cli_fake(monkeypatch, fake) -> FakeEmbedder:
    """The fake embedder in place of the real one wherever the CLI makes one."""
    monkeypatch.setattr(pipeline, "Embedder", lambda *a, **k: fake)
    monkeypatch.setattr(indexer, "Embedder", lambda *a, **k: fake)
    return fake


@pytest.fixture
def incoming(tmp_path) -> Path:
    """An empty folder outside the corpus, for `qa add`."""
    d = tmp_path / "incoming"
    d.mkdir()
    return d


@pytest.fixture
def squad_files(tmp_path) -> list[Path]:
    """A tiny parallel SQuAD pair (x.en.json, x.ru.json): three questions in each language."""
    (tmp_path / "x.en.json").write_text(json.dumps(SQUAD_EN), encoding="utf-8")
    (tmp_path / "x.ru.json").write_text(json.dumps(SQUAD_RU, ensure_ascii=False), encoding="utf-8")
    return [tmp_path / "x.en.json", tmp_path / "x.ru.json"]
