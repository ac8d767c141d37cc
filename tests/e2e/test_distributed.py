"""Batch embedding on Dask workers (local cluster on 127.0.0.1): the same vectors, in the same
order, as embedding in-process."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embed import distributed as distembed

pytestmark = pytest.mark.slow

TEXTS = [
    "Lavrov and Blinken held talks in Geneva on January 21.",
    "Лавров и Блинкен провели переговоры в Женеве 21 января.",
    "NATO sent its written answer on January 26.",
    "Ответ НАТО был направлен 26 января.",
    "Short.",
    "Путин met Biden",
    "The ceremony was brief, and quokkaberry wine was served to every guest in the hall.",
    "",
    "😉",
]


def test_dask_workers_embed_like_one_process(embedder, real_settings, monkeypatch):
    from dask.distributed import Client

    monkeypatch.setattr(distembed, "BATCH", 2)  # several tasks, spread over both workers
    with distembed.local_cluster(2) as cluster, Client(cluster) as client:
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2
        assert all(addr.startswith("tcp://127.0.0.1:") for addr in workers)
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        got = distembed.passages(TEXTS, real_settings, client=client)
    want = embedder.passages(TEXTS)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_build_with_embed_workers(embedder, model_cache, tmp_path):
    """`qa build --embed-workers 2`: the index holds the vectors an in-process build makes."""
    from qa import pipeline
    from qa.config import Settings
    from tests.samples import ARTICLES

    corpus = tmp_path / "corpus"
    for rel in ("en/geneva.txt", "ru/geneva.txt"):
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        (corpus / rel).write_text(ARTICLES[rel])
    s = Settings(corpus=corpus, index=tmp_path / "index", model_cache=model_cache, quiet=True)
    report = pipeline.build(s.with_(embed_workers=2))
    assert report.chunks_embedded > 0
    idx = pipeline.Pipeline(s, embedder=embedder).index
    want = embedder.passages([c.text for c in idx.chunks])
    np.testing.assert_allclose(idx.faiss.reconstruct_n(0, len(idx.chunks)), want, atol=1e-5)
