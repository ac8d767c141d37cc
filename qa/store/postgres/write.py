"""Writing the postgres backend's tables: one transaction per build that removes the
articles gone or changed, COPYs (binary) the new rows, keeps document frequencies and
lengths current and switches the version (qa.store.postgres.index reads them)."""

from __future__ import annotations

import json
import struct
from collections import Counter

import numpy as np
from psycopg import sql

from qa.store import lexical
from qa.store.catalog import entry_row
from qa.store.postgres import schema as pgschema

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
            # The FAISS backend stores sentence vectors as float16 (qa.store.files): the same
            # rounded values here give the same cosines.
            vecs = np.asarray(vecs, dtype=np.float16).astype(np.float32)
        for i, (item, v) in enumerate(zip(getattr(e, items), vecs)):
            yield (
                struct.pack("!h", 4) + _text(e.article.id) + _int(i) + _text(item.lang) + _vec(v)
            )


def postings(entries, ns: Counter, lens: Counter):
    """(article id, ord, lang, lexeme, tf, dl) for every chunk's stemmed tokens (qa.store.lexical),
    dl as bm25s counts it (an empty chunk is one empty token); counts chunks and lengths per
    language into ``ns`` and ``lens`` on the way (a generator: 1M chunks are ~25M rows)."""
    for e in entries:
        for i, c in enumerate(e.chunks):
            toks = lexical.tokens(c.text, c.lang)
            dl = len(toks) or 1
            ns[c.lang] += 1
            lens[c.lang] += dl
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
    rows = postings(add, ns, lens)
    _copy(
        cur,
        schema,
        "postings",
        "article_id, ord, lang, lexeme, tf, dl",
        _postings_rows(rows, df),
    )


def _article_row(e) -> bytes:
    # jsonb's binary format: a version byte (1), then the JSON text.
    doc = b"\x01" + json.dumps(entry_row(e), ensure_ascii=False).encode("utf-8")
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
