"""Which lexical side for the postgres backend? Paragraph retrieval on the XQuAD dev split
(each question against the paragraphs of its own language, like qa's BM25), three ways:

- ``bm25s``: qa.store.lexical as the FAISS backend runs it (PyStemmer Snowball, our stop words);
- ``sql_bm25_pystemmer``: the same tokens as postings in PostgreSQL, BM25 computed in SQL
  (what the postgres backend does);
- ``sql_bm25_russian``: postings from Postgres's own ``to_tsvector('russian', text)`` (Cyrillic
  through the Russian Snowball stemmer, Latin through the English one, Postgres's stop words),
  the same BM25 in SQL;
- ``ts_rank_russian``: Postgres full-text search as usually written: GIN index on
  ``to_tsvector('russian', text)``, the question's lexemes OR-ed into a tsquery, ``ts_rank``.

    .venv/bin/python bench/pg_lexical.py      # ~1 min; prints a markdown table
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from qa.config import quiet_third_party
from qa.eval import squad as evaluate
from qa.store import lexical
from qa.store.postgres import server as pgserver

ROOT = Path(__file__).resolve().parents[1]
XQUAD = ROOT.parent / "shared" / "bench" / "xquad"
OUT = ROOT / "bench" / "out" / "pg_lexical.json"
K1, B = 1.5, 0.75


def sql_bm25(conn, table: str, lang: str, terms: Counter, k: int) -> list[str]:
    n, avgdl = conn.execute(
        f"SELECT count(*), avg(dl) FROM (SELECT DISTINCT id, dl FROM {table} WHERE lang = %s) d",
        (lang,),
    ).fetchone()
    lexemes = list(terms)
    df = dict(
        conn.execute(
            f"SELECT lexeme, count(*) FROM {table} WHERE lang = %s AND lexeme = ANY(%s) "
            "GROUP BY lexeme",
            (lang, lexemes),
        ).fetchall()
    )
    known = [t for t in lexemes if df.get(t)]
    if not known:
        return []
    weights = [math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) * terms[t] for t in known]
    rows = conn.execute(
        "SELECT p.id, sum((%s::float8[])[array_position(%s::text[], p.lexeme)] * p.tf / "
        f"({K1} * ((1 - {B}) + {B} * p.dl / %s) + p.tf)) AS s FROM {table} p "
        "WHERE p.lang = %s AND p.lexeme = ANY(%s) GROUP BY p.id ORDER BY s DESC, p.id LIMIT %s",
        (weights, known, float(avgdl), lang, known, k),
    ).fetchall()
    return [r[0] for r in rows]


def main() -> None:
    import psycopg

    quiet_third_party()
    paragraphs, questions = evaluate.load_squad(
        [XQUAD / "xquad-dev.en.json", XQUAD / "xquad-dev.ru.json"]
    )
    docs = [
        (f"{lang}/{story}", lang, text)
        for story, v in paragraphs.items()
        for lang, text in v.items()
    ]
    root = pgserver.workdir()
    server = pgserver.start(root / "node", durable=False)
    result: dict = {"questions": len(questions), "paragraphs": len(docs), "methods": {}}
    try:
        conn = psycopg.connect(server.dsn(), autocommit=True)
        conn.execute("CREATE TABLE docs (id text, lang text, body text, tsv tsvector)")
        conn.execute("CREATE TABLE postings (id text, lang text, lexeme text, tf int, dl int)")
        with conn.cursor().copy("COPY docs (id, lang, body) FROM STDIN") as cp:
            for d in docs:
                cp.write_row(d)
        conn.execute("UPDATE docs SET tsv = to_tsvector('russian', body)")
        conn.execute("CREATE INDEX ON docs USING gin (tsv)")
        # Postgres's own lexemes (tf = positions of each lexeme).
        conn.execute(
            "INSERT INTO postings SELECT id, lang, (u).lexeme, array_length((u).positions, 1), 0 "
            "FROM (SELECT id, lang, unnest(tsv) u FROM docs) x"
        )
        conn.execute(
            "UPDATE postings p SET dl = s.dl FROM (SELECT id, sum(tf) dl FROM postings "
            "GROUP BY id) s WHERE s.id = p.id"
        )
        conn.execute("ALTER TABLE postings RENAME TO postings_russian")
        conn.execute("CREATE TABLE postings (id text, lang text, lexeme text, tf int, dl int)")
        with conn.cursor().copy("COPY postings FROM STDIN") as cp:
            for did, lang, text in docs:
                toks = lexical.tokens(text, lang)
                for t, tf in Counter(toks or [""]).items():
                    cp.write_row((did, lang, t, tf, len(toks) or 1))
        for t in ("postings", "postings_russian"):
            conn.execute(f"CREATE INDEX ON {t} (lang, lexeme)")
        conn.execute("ANALYZE")
        by_lang = {
            lang: lexical.LexicalIndex.build(
                lang,
                [d[2] for d in docs if d[1] == lang],
                [i for i, d in enumerate(docs) if d[1] == lang],
            )
            for lang in ("en", "ru")
        }

        def bm25s_(q):
            rows = by_lang[q.lang].search(lexical.tokens(q.text, q.lang), 20)
            return [docs[r][0] for r, _ in rows]

        def pystem(q):
            return sql_bm25(conn, "postings", q.lang, Counter(lexical.tokens(q.text, q.lang)), 20)

        def russian(q):
            lex = conn.execute(
                "SELECT (u).lexeme, array_length((u).positions, 1) "
                "FROM unnest(to_tsvector('russian', %s)) u",
                (q.text,),
            ).fetchall()
            return sql_bm25(conn, "postings_russian", q.lang, Counter(dict(lex)), 20)

        def ts_rank(q):
            rows = conn.execute(
                "WITH q AS (SELECT to_tsquery('russian', string_agg(quote_literal((u).lexeme), ' | ')) "
                "AS tq FROM unnest(to_tsvector('russian', %s)) u) "
                "SELECT id FROM docs, q WHERE lang = %s AND tsv @@ q.tq "
                "ORDER BY ts_rank(tsv, q.tq) DESC, id LIMIT 20",
                (q.text, q.lang),
            ).fetchall()
            return [r[0] for r in rows]

        from qa.ingest import lang as langmod

        qs = []
        for q in questions:
            qlang = langmod.detect(q.text)
            qs.append(type("Q", (), {"text": q.text, "lang": qlang, "gold": f"{qlang}/{q.story}"}))
        for name, fn in (
            ("bm25s", bm25s_),
            ("sql_bm25_pystemmer", pystem),
            ("sql_bm25_russian", russian),
            ("ts_rank_russian", ts_rank),
        ):
            ranks, times = [], []
            for q in qs:
                t = time.perf_counter()
                got = fn(q)
                times.append(time.perf_counter() - t)
                ranks.append(got.index(q.gold) + 1 if q.gold in got else None)
            result["methods"][name] = {
                lg: {
                    "R@1": round(np.mean([r == 1 for r, q in zip(ranks, qs) if q.lang == lg]), 3),
                    "R@5": round(
                        np.mean(
                            [r is not None and r <= 5 for r, q in zip(ranks, qs) if q.lang == lg]
                        ),
                        3,
                    ),
                }
                for lg in ("en", "ru")
            }
            result["methods"][name]["ms_p50"] = round(float(np.median(times)) * 1000, 2)
            if name == "sql_bm25_pystemmer":
                same = sum(bm25s_(q)[:5] == got for q, got in zip(qs, (pystem(q)[:5] for q in qs)))
                result["same_top5_as_bm25s"] = f"{same}/{len(qs)}"
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print("| lexical side | EN R@1 | EN R@5 | RU R@1 | RU R@5 | ms/query (p50) |")
    print("|---|---|---|---|---|---|")
    for name, m in result["methods"].items():
        print(
            f"| {name} | {m['en']['R@1']} | {m['en']['R@5']} | {m['ru']['R@1']} | "
            f"{m['ru']['R@5']} | {m['ms_p50']} |"
        )
    print(f"\nsame top-5 paragraphs, SQL BM25 vs bm25s: {result.get('same_top5_as_bm25s')}")


if __name__ == "__main__":
    sys.exit(main())
