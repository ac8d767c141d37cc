"""Batch embedding on Dask workers (local cluster on 127.0.0.1): the same vectors, in the same
order, as embedding in-process."""

from __future__ import annotations

import numpy as np
import pytest

from qa import distembed

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
