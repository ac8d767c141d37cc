"""The `postgres` backend: chunk and sentence vectors in pgvector, BM25 computed in SQL from a
postings table, article metadata in a table; on one node or sharded (qa.store.postgres.schema).

Same answers as the FAISS backend, by construction:
- Below pgschema.ANN_MIN rows a vector search is an exact scan, like FAISS's flat index
  (``ORDER BY (embedding <#> q) + 0`` cannot use the HNSW index); above, HNSW.
- Postings hold the very tokens qa.store.lexical gives bm25s (PyStemmer Snowball, our stop words),
  and the SQL computes bm25s's scores (Lucene idf, k1 1.5, b 0.75, per language). Postgres's
  own `russian` text-search configuration would stem Latin words with the English stemmer and
  drop other stop words: different tokens, different rankings (README, "Lexical side").
- Rows are numbered client-side in corpus order (articles sorted by path), so fusion breaks
  ties as the FAISS backend does.

A search on a sharded coordinator is one statement: a UNION ALL of one ``ORDER BY .. LIMIT k``
per partition, which postgres_fdw sends whole to each shard (async_capable: concurrently),
and the coordinator merges the shards' top-k.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from pathlib import PurePosixPath

import numpy as np
from psycopg import sql

from qa.errors import BackendError, IndexCorrupt, IndexMissing
from qa.store import lexical
from qa.store.catalog import COS_DECIMALS, Catalog, entry_from_row
from qa.store.postgres import schema as pgschema

K1, B = 1.5, 0.75  # bm25s defaults, as in qa.store.lexical


def vec_literal(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.9g}" for x in np.asarray(v, dtype=np.float32)) + "]"


class PgIndex(Catalog):
    """A version of the index on PostgreSQL: the catalogue (articles, sentences, chunks) held
    in memory, like the FAISS backend's, and searches that run on the server."""

    def __init__(self, conn, schema: str, entries, manifest: dict, version: str, stats: dict):
        super().__init__(entries, manifest)
        self.conn, self.schema, self.version = conn, schema, version
        self.stats = stats  # {lang: (n, total_len)}
        self._lock = threading.Lock()  # one connection, used by the UI's threads in turn
        self.chunk_row = {c.id: i for i, c in enumerate(self.chunks)}
        self._sentence_vecs: dict[int, np.ndarray] = {}
        self.lexical = {lang: PgLexical(self, lang) for lang in ("en", "ru")}
        n_chunks = len(self.chunks)
        self.exact = {"chunks": n_chunks < pgschema.ANN_MIN}
        self.exact["sentences"] = len(self.sentences) < pgschema.ANN_MIN
        self._leaves = {t: pgschema.leaves(conn, schema, t) for t in pgschema.DATA_TABLES}

    def fetch(self, query, params=()):
        import psycopg

        with self._lock:
            try:
                return self.conn.execute(query, params).fetchall()
            except psycopg.OperationalError as e:
                first = (str(e).strip().splitlines() or ["?"])[0]
                raise BackendError(
                    f"lost the PostgreSQL server ({first}): restart it and ask again"
                ) from None

    def _vector_search(self, table: str, qvec: np.ndarray, k: int):
        """(article id, ord, cosine) best first: one ``ORDER BY d LIMIT k`` per partition,
        each sent whole to its shard, merged here. The outer sort is on ``-d``, a different
        expression, so the planner appends the shards' scans (async: concurrently) instead
        of merge-appending them (one after another)."""
        dist = sql.SQL("embedding <#> %s::vector")  # negative inner product
        # "+ 0" hides the expression from the HNSW index: an exact scan, like a flat index.
        d = sql.SQL("({}) + 0").format(dist) if self.exact[table] else dist
        k = k + lexical.TIE_DEPTH
        parts = [
            sql.SQL("(SELECT article_id, ord, {} AS d FROM {} ORDER BY d LIMIT {})").format(
                d, pgschema.q(self.schema, rel), sql.Literal(k)
            )
            for rel, _ in self._leaves[table]
        ]
        query = sql.SQL(
            "SELECT article_id, ord, -d AS score FROM ({}) t ORDER BY score DESC LIMIT {}"
        ).format(sql.SQL(" UNION ALL ").join(parts), sql.Literal(k))
        return self.fetch(query, (vec_literal(qvec),) * len(parts))

    def dense_search(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        rows = self._vector_search("chunks", qvec, k)
        return _ranked((self.chunk_row.get(f"{a}#{o}"), s) for a, o, s in rows)[:k]

    def sentence_search(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        found = self.sentence_rows(qvec, k * 2)
        return self.sentence_hits_to_chunks(found, k)

    def sentence_rows(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        rows = self._vector_search("sentences", qvec, k)
        return _ranked((self.sentence_row.get(f"{a}s{o}"), s) for a, o, s in rows)[:k]

    def similar_sentences(self, vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.sentence_rows(vec, k)

    def sentence_vector(self, row: int) -> np.ndarray:
        """Fetched with the rest of its article's sentences, and cached."""
        cache = self._sentence_vecs
        if row not in cache:
            if len(cache) > 200_000:
                cache.clear()
            s = self.sentences[row]
            base = row - int(s.id.rsplit("s", 1)[1])
            got = self.fetch(
                sql.SQL("SELECT ord, embedding::text FROM {} WHERE article_id = %s").format(
                    pgschema.q(self.schema, "sentences")
                ),
                (s.article_id,),
            )
            for o, text in got:
                cache[base + o] = np.asarray(json.loads(text), dtype=np.float32)
        return cache[row]


def _ranked(pairs, later_first: bool = True) -> list[tuple[int, float]]:
    """Best first; equal scores (wire copies) in the order the FAISS backend gives them
    (FAISS's flat index: the later row first; qa.store.lexical: the earlier), so fusion sees the
    same ranks. Rows unknown to this version (a build committed since it was loaded) are
    dropped; the next question loads the new version."""
    out = [(r, float(s)) for r, s in pairs if r is not None]
    sign = -1 if later_first else 1
    places = COS_DECIMALS if later_first else lexical.TIE_DECIMALS
    out.sort(key=lambda x: (-round(x[1], places), sign * x[0]))
    return out


class PgLexical:
    """BM25 over one language's chunks, computed by the server from the postings table."""

    def __init__(self, idx: PgIndex, lang: str):
        self.idx, self.lang = idx, lang
        self.n, total = idx.stats.get(lang, (0, 0))
        self.avgdl = total / self.n if self.n else 1.0
        self._df: dict[str, int] = {}

    def _load_df(self, tokens) -> None:
        missing = sorted({t for t in tokens if t not in self._df})
        if not missing:
            return
        rows = self.idx.fetch(
            sql.SQL("SELECT lexeme, df FROM {} WHERE lang = %s AND lexeme = ANY(%s)").format(
                pgschema.q(self.idx.schema, "terms")
            ),
            (self.lang, missing),
        )
        self._df.update({t: 0 for t in missing})
        self._df.update(dict(rows))

    def idf(self, token: str) -> float:
        """As qa.store.lexical.LexicalIndex.idf (the reader's term weights)."""
        self._load_df([token])
        return math.log(1 + (self.n + 1) / (self._df.get(token, 0) + 0.5))

    def search(self, question_tokens: list[str], k: int) -> list[tuple[int, float]]:
        """[(chunk row, BM25 score)] best first, as bm25s scores them."""
        toks = [t for t in question_tokens if t]
        self._load_df(toks)
        counts = Counter(t for t in toks if self._df.get(t))
        if not counts or not self.n:
            return []
        terms = list(counts)
        # bm25s counts a repeated query term once per occurrence: weight = idf * count.
        weights = [
            math.log(1 + (self.n - self._df[t] + 0.5) / (self._df[t] + 0.5)) * counts[t]
            for t in terms
        ]
        norm = sql.SQL("{} * ((1 - {}) + {} * p.dl / {})").format(
            sql.Literal(K1), sql.Literal(B), sql.Literal(B), sql.Literal(float(self.avgdl))
        )
        # No join with the term list: a query on one table, with the terms as array
        # constants, is what postgres_fdw sends whole (scan, aggregate, sort, limit) to a shard.
        params = (weights, terms, self.lang, terms)
        parts = [
            sql.SQL(
                "(SELECT p.article_id, p.ord, "
                "sum((%s::float8[])[array_position(%s::text[], p.lexeme)] * p.tf / ({} + p.tf)) "
                "AS score FROM {} p WHERE p.lang = %s AND p.lexeme = ANY(%s::text[]) "
                "GROUP BY p.article_id, p.ord "
                "ORDER BY score DESC, p.article_id, p.ord LIMIT {})"
            ).format(norm, pgschema.q(self.idx.schema, rel), sql.Literal(k + lexical.TIE_DEPTH))
            for rel, _ in self.idx._leaves["postings"]
        ]
        # Outer sort on -score, not score: Append (async), not Merge Append (see above).
        query = sql.SQL("SELECT * FROM ({}) t ORDER BY -score LIMIT {}").format(
            sql.SQL(" UNION ALL ").join(parts), sql.Literal(k + lexical.TIE_DEPTH)
        )
        rows = self.idx.fetch(query, params * len(parts))
        pairs = ((self.idx.chunk_row.get(f"{a}#{o}"), s) for a, o, s in rows if s > 0)
        return _ranked(pairs, later_first=False)[:k]


# ---- loading -----------------------------------------------------------------------------
def live_version(conn, schema: str) -> str | None:
    if not pgschema.exists(conn, schema):
        return None
    row = conn.execute(
        sql.SQL("SELECT value FROM {} WHERE key = 'version'").format(pgschema.q(schema, "meta"))
    ).fetchone()
    return row[0] if row else None


def read_meta(conn, schema: str) -> tuple[str | None, dict | None]:
    rows = dict(
        conn.execute(sql.SQL("SELECT key, value FROM {}").format(pgschema.q(schema, "meta")))
    )
    return rows.get("version"), rows.get("manifest")


def load(conn, schema: str, model_id: str | None = None) -> PgIndex:
    """The live version: its catalogue read in one repeatable-read snapshot."""
    fix = "run `qa build --backend postgres` first"
    if not pgschema.exists(conn, schema):
        raise IndexMissing(f"no index in schema {schema} of the database: {fix}")
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        version, manifest = read_meta(conn, schema)
        if version is None:
            raise IndexMissing(f"no index in schema {schema} of the database: {fix}")
        docs = conn.execute(
            sql.SQL("SELECT doc FROM {}").format(pgschema.q(schema, "articles"))
        ).fetchall()
        stats = {
            lang: (n, total)
            for lang, n, total in conn.execute(
                sql.SQL("SELECT lang, n, total_len FROM {}").format(pgschema.q(schema, "stats"))
            )
        }
    if model_id and manifest.get("model") != model_id:
        raise IndexCorrupt(
            f"index was built with {manifest.get('model')}, not {model_id}: "
            "run `qa build --full` to rebuild it"
        )
    docs = sorted((d for (d,) in docs), key=lambda d: PurePosixPath(d["path"]).parts)
    entries = [entry_from_row(d) for d in docs]
    return PgIndex(conn, schema, entries, manifest, version, stats)


def previous(conn, schema: str) -> dict:
    """{article id: Entry without vectors} of the live version (what a build may keep)."""
    if live_version(conn, schema) is None:
        return {}
    docs = conn.execute(
        sql.SQL("SELECT doc FROM {}").format(pgschema.q(schema, "articles"))
    ).fetchall()
    return {d["id"]: entry_from_row(d) for (d,) in docs}
