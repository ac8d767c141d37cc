"""Shared fixtures. The end-to-end fixtures use the real packaged e5 model and the real
corpus/ (built once per session into a temporary index); unit tests use small fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.config import Settings, quiet_third_party

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
