"""The `postgres` backend: chunk and sentence vectors in pgvector, BM25 computed in SQL from a
postings table, article metadata in a table; on one node or sharded (qa.pgschema).

Same answers as the FAISS backend, by construction:
- Below pgschema.ANN_MIN rows a vector search is an exact scan, like FAISS's flat index
  (``ORDER BY (embedding <#> q) + 0`` cannot use the HNSW index); above, HNSW.
- Postings hold the very tokens qa.lexical gives bm25s (PyStemmer Snowball, our stop words),
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
import struct
import threading
from collections import Counter
from pathlib import PurePosixPath

import numpy as np
from psycopg import sql

from qa import index as indexmod
from qa import lexical, pgschema
from qa.types import QAError

K1, B = 1.5, 0.75  # bm25s defaults, as in qa.lexical


def connect(dsn: str | None, autocommit: bool = True):
    """A connection, or a one-line QAError that says what to do."""
    import psycopg

    if not dsn:
        raise QAError("the postgres backend needs a server: pass --dsn or set QA_DSN")
    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=10)
    except (psycopg.OperationalError, psycopg.ProgrammingError) as e:
        first = (str(e).strip().splitlines() or ["?"])[-1].strip()
        raise QAError(
            f"cannot connect to PostgreSQL ({first}): start the server or fix --dsn / QA_DSN"
        ) from None


def vec_literal(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.9g}" for x in np.asarray(v, dtype=np.float32)) + "]"


class PgIndex(indexmod.Catalog):
    """A version of the index on PostgreSQL: the catalogue (articles, sentences, chunks) held
    in memory, like the FAISS backend's, and searches that run on the server."""

    def __init__(self, conn, schema: str, entries, manifest: dict, version: str, stats: dict):
        super().__init__(entries, manifest)
        self.conn, self.schema, self.version = conn, schema, version
        self.stats = stats  # {lang: (n, total_len)}
        self._lock = threading.Lock()  # one connection, used by the UI's threads in turn
        self.chunk_row = {c.id: i for i, c in enumerate(self.chunks)}
        self.sentence_vecs = _SentenceVectors(self)
        self.sentence_faiss = _SentenceSearch(self)
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
                raise QAError(
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


def _ranked(pairs, later_first: bool = True) -> list[tuple[int, float]]:
    """Best first; equal scores (wire copies) in the order the FAISS backend gives them
    (FAISS's flat index: the later row first; qa.lexical: the earlier), so fusion sees the
    same ranks. Rows unknown to this version (a build committed since it was loaded) are
    dropped; the next question loads the new version."""
    out = [(r, float(s)) for r, s in pairs if r is not None]
    sign = -1 if later_first else 1
    places = indexmod.COS_DECIMALS if later_first else lexical.TIE_DECIMALS
    out.sort(key=lambda x: (-round(x[1], places), sign * x[0]))
    return out


class _SentenceVectors:
    """``index.sentence_vecs[row]`` for the reader, fetched per article and cached."""

    def __init__(self, idx: PgIndex):
        self.idx, self.cache = idx, {}

    def __getitem__(self, row: int) -> np.ndarray:
        if row not in self.cache:
            if len(self.cache) > 200_000:
                self.cache.clear()
            s = self.idx.sentences[row]
            base = row - int(s.id.rsplit("s", 1)[1])
            got = self.idx.fetch(
                sql.SQL("SELECT ord, embedding::text FROM {} WHERE article_id = %s").format(
                    pgschema.q(self.idx.schema, "sentences")
                ),
                (s.article_id,),
            )
            for o, text in got:
                self.cache[base + o] = np.asarray(json.loads(text), dtype=np.float32)
        return self.cache[row]


class _SentenceSearch:
    """The slice of the FAISS API qa.news uses (``ntotal``, ``search``), served from Postgres."""

    def __init__(self, idx: PgIndex):
        self.idx = idx

    @property
    def ntotal(self) -> int:
        return len(self.idx.sentences)

    def search(self, qvecs: np.ndarray, k: int):
        found = self.idx.sentence_rows(qvecs[0], k)
        rows = np.full((1, k), -1, dtype=np.int64)
        scores = np.zeros((1, k), dtype=np.float32)
        for i, (r, s) in enumerate(found[:k]):
            rows[0, i], scores[0, i] = r, s
        return scores, rows


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
        """As qa.lexical.LexicalIndex.idf (the reader's term weights)."""
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
        raise indexmod.IndexMissing(f"no index in schema {schema} of the database: {fix}")
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        version, manifest = read_meta(conn, schema)
        if version is None:
            raise indexmod.IndexMissing(f"no index in schema {schema} of the database: {fix}")
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
        raise indexmod.IndexCorrupt(
            f"index was built with {manifest.get('model')}, not {model_id}: "
            "run `qa build --full` to rebuild it"
        )
    docs = sorted((d for (d,) in docs), key=lambda d: PurePosixPath(d["path"]).parts)
    entries = [indexmod.entry_from_row(d) for d in docs]
    return PgIndex(conn, schema, entries, manifest, version, stats)


def previous(conn, schema: str) -> dict:
    """{article id: Entry without vectors} of the live version (what a build may keep)."""
    if live_version(conn, schema) is None:
        return {}
    docs = conn.execute(
        sql.SQL("SELECT doc FROM {}").format(pgschema.q(schema, "articles"))
    ).fetchall()
    return {d["id"]: indexmod.entry_from_row(d) for (d,) in docs}


# ---- writing -------------------------------------------------------------------------------
_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_TRAILER = struct.pack("!h", -1)


def _text(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("!i", len(b)) + b


def _int(i: int) -> bytes:
    return b"\x00\x00\x00\x04" + struct.pack("!i", i)


def _vec(v: np.ndarray) -> bytes:
    # pgvector's binary format: int16 dim, int16 unused, dim big-endian float4.
    body = struct.pack("!hh", len(v), 0) + np.asarray(v, dtype=">f4").tobytes()
    return struct.pack("!i", len(body)) + body


def _copy(cur, schema: str, table: str, columns: str, rows) -> None:
    """Binary COPY of already-encoded tuples (bytes), in batches of ~8 MB."""
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        pgschema.q(schema, table), sql.SQL(columns)
    )
    with cur.copy(stmt) as cp:
        cp.write(_HEADER)
        buf, size = [], 0
        for r in rows:
            buf.append(r)
            size += len(r)
            if size > 8 << 20:
                cp.write(b"".join(buf))
                buf, size = [], 0
        cp.write(b"".join(buf) + _TRAILER)


def _vector_rows(entries, attr: str, items: str):
    for e in entries:
        vecs = getattr(e, attr)
        if attr == "sentence_vecs":
            # The FAISS backend stores sentence vectors as float16 (qa.index): the same
            # rounded values here give the same cosines.
            vecs = np.asarray(vecs, dtype=np.float16).astype(np.float32)
        for i, (item, v) in enumerate(zip(getattr(e, items), vecs)):
            yield (
                struct.pack("!h", 4) + _text(e.article.id) + _int(i) + _text(item.lang) + _vec(v)
            )


def postings(entries):
    """(article id, ord, lang, lexeme, tf, dl) for every chunk's stemmed tokens (qa.lexical),
    dl as bm25s counts it (an empty chunk is one empty token)."""
    for e in entries:
        for i, c in enumerate(e.chunks):
            toks = lexical.tokens(c.text, c.lang)
            dl = len(toks) or 1
            for lexeme, tf in Counter(toks or [""]).items():
                yield e.article.id, i, c.lang, lexeme, tf, dl


def _postings_rows(rows, df: Counter):
    for aid, o, lang, lexeme, tf, dl in rows:
        df[lang, lexeme] += 1
        yield (
            struct.pack("!h", 6)
            + _text(aid)
            + _int(o)
            + _text(lang)
            + _text(lexeme)
            + _int(tf)
            + _int(dl)
        )


def write(conn, schema: str, add, remove_ids, manifest: dict, version: str, full: bool) -> None:
    """One transaction: drop the removed and changed articles, insert the new entries, keep
    the document frequencies and lengths current, switch the version. Readers see the old
    version or the new one, never a mix (through postgres_fdw too: the shards' remote
    transactions commit with the coordinator's, though without two-phase commit)."""
    t = {n: pgschema.q(schema, n) for n in (*pgschema.DATA_TABLES, *pgschema._LOCAL)}
    df, lens, ns = Counter(), Counter(), Counter()
    with conn.transaction(), conn.cursor() as cur:
        if full:
            names = sql.SQL(", ").join(t[n] for n in (*pgschema.DATA_TABLES, "terms", "stats"))
            cur.execute(sql.SQL("TRUNCATE {}").format(names))
            pgschema.postings_indexes(conn, schema, present=False)
        elif remove_ids:
            ids = list(remove_ids)
            cur.execute(
                sql.SQL(
                    "SELECT lang, lexeme, count(*) FROM {} WHERE article_id = ANY(%s) "
                    "GROUP BY lang, lexeme"
                ).format(t["postings"]),
                (ids,),
            )
            for lang, lexeme, n in cur.fetchall():
                df[lang, lexeme] -= n
            cur.execute(
                sql.SQL(
                    "SELECT lang, count(*), sum(dl) FROM (SELECT DISTINCT article_id, ord, "
                    "lang, dl FROM {} WHERE article_id = ANY(%s)) c GROUP BY lang"
                ).format(t["postings"]),
                (ids,),
            )
            for lang, n, total in cur.fetchall():
                ns[lang] -= n
                lens[lang] -= total
            for name in pgschema.DATA_TABLES:
                cur.execute(
                    sql.SQL("DELETE FROM {} WHERE article_id = ANY(%s)").format(t[name]), (ids,)
                )
        _insert(cur, schema, add, df, lens, ns)
        if full:
            pgschema.postings_indexes(conn, schema, present=True)
        _update_counts(cur, t, df, lens, ns)
        for key, value in (("manifest", manifest), ("version", version)):
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
                    "SET value = excluded.value"
                ).format(t["meta"]),
                (key, json.dumps(value, ensure_ascii=False)),
            )


def _insert(cur, schema: str, add, df: Counter, lens: Counter, ns: Counter) -> None:
    if not add:
        return
    _copy(
        cur,
        schema,
        "articles",
        "article_id, path, doc",
        (_article_row(e) for e in add),
    )
    _copy(
        cur,
        schema,
        "chunks",
        "article_id, ord, lang, embedding",
        _vector_rows(add, "chunk_vecs", "chunks"),
    )
    _copy(
        cur,
        schema,
        "sentences",
        "article_id, ord, lang, embedding",
        _vector_rows(add, "sentence_vecs", "sentences"),
    )
    rows = list(postings(add))
    seen = set()
    for aid, o, lang, _, _, dl in rows:
        if (aid, o) not in seen:
            seen.add((aid, o))
            ns[lang] += 1
            lens[lang] += dl
    _copy(
        cur,
        schema,
        "postings",
        "article_id, ord, lang, lexeme, tf, dl",
        _postings_rows(rows, df),
    )


def _article_row(e) -> bytes:
    # jsonb's binary format: a version byte (1), then the JSON text.
    doc = b"\x01" + json.dumps(indexmod.entry_row(e), ensure_ascii=False).encode("utf-8")
    return (
        struct.pack("!h", 3)
        + _text(e.article.id)
        + _text(e.article.path)
        + struct.pack("!i", len(doc))
        + doc
    )


def _update_counts(cur, t, df: Counter, lens: Counter, ns: Counter) -> None:
    changed = [(lang, lex, d) for (lang, lex), d in df.items() if d]
    if changed:
        langs, lexemes, deltas = (list(x) for x in zip(*changed))
        cur.execute(
            sql.SQL(
                "INSERT INTO {} (lang, lexeme, df) "
                "SELECT * FROM unnest(%s::text[], %s::text[], %s::int[]) "
                "ON CONFLICT (lang, lexeme) DO UPDATE SET df = {}.df + excluded.df"
            ).format(t["terms"], t["terms"]),
            (langs, lexemes, deltas),
        )
        cur.execute(sql.SQL("DELETE FROM {} WHERE df <= 0").format(t["terms"]))
    for lang in set(ns) | set(lens):
        cur.execute(
            sql.SQL(
                "INSERT INTO {} VALUES (%s, %s, %s) ON CONFLICT (lang) DO UPDATE "
                "SET n = {}.n + excluded.n, total_len = {}.total_len + excluded.total_len"
            ).format(t["stats"], t["stats"], t["stats"]),
            (lang, ns[lang], lens[lang]),
        )
