"""Batch embedding on Dask distributed workers, for large builds (``--embed-workers N`` /
QA_EMBED_WORKERS starts N local worker processes; QA_DASK_SCHEDULER uses a running cluster).

Each worker process loads the model once and embeds whole batches; results come back in input
order, so the build cannot tell them from in-process embedding. A local cluster listens on
127.0.0.1 only, with no dashboard. (Ray is not an option here: it opens listeners on other
addresses even when told to use 127.0.0.1.)
"""

from __future__ import annotations

import numpy as np

from qa.config import Settings
from qa.embed.embedder import DIM, Embedder
from qa.errors import need

BATCH = 256  # texts per task: big enough to amortize scheduling, small enough to balance
_MODELS: dict[tuple, Embedder] = {}  # per worker process


def _encode(
    texts: list[str], cache: str, model_batch: int, threads: int, engine: str = "onnx"
) -> np.ndarray:
    key = (cache, model_batch, threads, engine)
    if key not in _MODELS:
        _MODELS[key] = Embedder(cache, model_batch, threads, engine=engine)
    return _MODELS[key].passages(texts)


def local_cluster(workers: int, threads: int = 1):
    """A LocalCluster of worker processes bound to 127.0.0.1 (caller closes it)."""
    LocalCluster = need("distributed", "dask.distributed").LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        protocol="tcp",
        silence_logs=40,  # errors only
    )


def passages(texts: list[str], settings: Settings, client=None):
    """Passage embeddings of ``texts`` (normalized, in order), computed by Dask workers.
    (No progress bar: dask's prints to stdout, which holds results only.)"""
    Client = need("distributed", "dask.distributed").Client

    if not texts:
        return np.zeros((0, DIM), np.float32)
    if settings.engine == "onnx":
        from qa.embed import onnx_e5

        # Export here, once, before the workers start: otherwise each would export its own copy.
        onnx_e5.ensure_exported(
            settings.model_cache, None if settings.quiet else onnx_e5.stderr_line
        )
    cluster = None
    own = client is None
    if own:
        if settings.dask_scheduler:
            client = Client(settings.dask_scheduler, timeout="30s")
        else:
            cluster = local_cluster(max(1, settings.embed_workers), settings.threads or 1)
            client = Client(cluster)
    try:
        # Longest first, so batches hold texts of similar length (less padding) and the
        # slowest batches start first; the order is restored below.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = [[texts[i] for i in order[j : j + BATCH]] for j in range(0, len(order), BATCH)]
        futures = client.map(
            _encode,
            batches,
            cache=str(settings.model_cache),
            model_batch=settings.batch_size,  # not batch_size: Client.map takes that itself
            threads=settings.threads or 1,  # a worker per core, a thread each
            engine=settings.engine,
            pure=False,
        )
        parts = client.gather(futures)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    out = np.empty((len(texts), DIM), np.float32)
    out[np.asarray(order)] = np.vstack(parts)
    return out
