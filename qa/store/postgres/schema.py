"""PostgreSQL tables for the `postgres` backend: one node, or a coordinator whose data tables
are hash partitions living on shard servers (postgres_fdw foreign tables).

Data tables (chunks, sentences, postings, articles) are keyed and partitioned by article id,
so everything about one article lives on one shard and a shard's top-k needs no other shard.
The small tables (meta, terms = document frequencies, stats = chunk count and total length per
language) stay on the coordinator.
"""

from __future__ import annotations

import re

from psycopg import sql

from qa.errors import QAError

DIM = 384
DATA_TABLES = ("articles", "chunks", "sentences", "postings")
_COLUMNS = {
    "articles": "article_id text NOT NULL, path text NOT NULL, doc jsonb NOT NULL",
    "chunks": f"article_id text NOT NULL, ord int NOT NULL, lang text NOT NULL, "
    f"embedding vector({DIM}) NOT NULL",
    "sentences": f"article_id text NOT NULL, ord int NOT NULL, lang text NOT NULL, "
    f"embedding vector({DIM}) NOT NULL",
    # One row per (chunk, stemmed term): the inverted index BM25 is computed from. dl (the
    # chunk's token count) is repeated here so a query needs no join.
    "postings": "article_id text NOT NULL, ord int NOT NULL, lang text NOT NULL, "
    "lexeme text NOT NULL, tf int NOT NULL, dl int NOT NULL",
}
_KEYS = {
    "articles": "(article_id)",
    "chunks": "(article_id, ord)",
    "sentences": "(article_id, ord)",
}
_LOCAL = {
    "meta": "key text PRIMARY KEY, value jsonb NOT NULL",
    "terms": "lang text NOT NULL, lexeme text NOT NULL, df int NOT NULL, "
    "PRIMARY KEY (lang, lexeme)",
    "stats": "lang text PRIMARY KEY, n bigint NOT NULL, total_len bigint NOT NULL",
}
# HNSW graphs (pgvector) are built once a table reaches this many rows, like the FAISS
# backend's switch to IVF; below it every search is an exact scan (see qa.store.postgres.index).
ANN_MIN = 100_000
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64
# Candidates an HNSW search keeps: the retriever asks for up to 4 * 50 chunks and 2 * 200
# sentences, and pgvector returns at most ef_search rows.
EF_SEARCH = 400


_POSTINGS_INDEXES = (
    "CREATE INDEX IF NOT EXISTS postings_term ON {schema}.postings (lang, lexeme)",
    "CREATE INDEX IF NOT EXISTS postings_article ON {schema}.postings (article_id)",
)


def check_schema(schema: str) -> str:
    """Schema names reach DDL that dblink runs as text: plain identifiers only."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", schema):
        raise QAError(f"QA_PG_SCHEMA={schema!r}: use lower-case letters, digits and _")
    return schema


def q(schema: str, name: str) -> sql.Composed:
    return sql.Identifier(schema, name)


def exists(conn, schema: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (f"{schema}.meta",)).fetchone()
    return row[0] is not None


def _data_table(conn, schema: str, name: str, partitioned_by: int = 0) -> None:
    part = " PARTITION BY HASH (article_id)" if partitioned_by else ""
    key = f", PRIMARY KEY {_KEYS[name]}" if name in _KEYS and not partitioned_by else ""
    conn.execute(
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({}{}){}").format(
            q(schema, name), sql.SQL(_COLUMNS[name]), sql.SQL(key), sql.SQL(part)
        )
    )
    if not partitioned_by and name == "postings":
        for ddl in _POSTINGS_INDEXES:
            conn.execute(ddl.format(schema=schema))


def _base(conn, schema: str) -> None:
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    # postgres_fdw does not forward session settings: the HNSW search depth is a database
    # default on every node.
    db = conn.execute("SELECT current_database()").fetchone()[0]
    conn.execute(
        sql.SQL("ALTER DATABASE {} SET hnsw.ef_search = {}").format(
            sql.Identifier(db), sql.Literal(EF_SEARCH)
        )
    )


def create_local(conn, schema: str) -> None:
    """Tables on one node (idempotent)."""
    _base(conn, schema)
    for name in DATA_TABLES:
        _data_table(conn, schema, name)
    for name, cols in _LOCAL.items():
        conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(q(schema, name), sql.SQL(cols))
        )


def create_shard(conn, schema: str) -> None:
    """The data tables on a shard server; the coordinator reaches them through postgres_fdw."""
    _base(conn, schema)
    for name in DATA_TABLES:
        _data_table(conn, schema, name)


def create_coordinator(conn, schema: str, shards: list[dict]) -> None:
    """Partitioned data tables whose partitions are foreign tables on ``shards`` (conninfo
    dicts: host, port, dbname, user), plus the coordinator's own small tables."""
    if exists(conn, schema):
        raise QAError(f"schema {schema} already exists on the coordinator: drop it first")
    _base(conn, schema)
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
    conn.execute("CREATE EXTENSION IF NOT EXISTS dblink")
    servers = []
    for i, info in enumerate(shards):
        server = f"{schema}_shard{i}"
        servers.append(server)
        conn.execute(sql.SQL("DROP SERVER IF EXISTS {} CASCADE").format(sql.Identifier(server)))
        # async_capable: the coordinator's Append runs the shards' scans concurrently;
        # extensions: pgvector's operators may be sent to the shards (ORDER BY <#> ... LIMIT).
        options = {
            "host": info.get("host", "127.0.0.1"),
            "port": str(info.get("port", 5432)),
            "dbname": info.get("dbname", "qa"),
            "async_capable": "true",
            "extensions": "vector",
            "fetch_size": "1000",
            "batch_size": "1000",
        }
        opts = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v)) for k, v in options.items()
        )
        conn.execute(
            sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({})").format(
                sql.Identifier(server), opts
            )
        )
        umap = [sql.SQL("user {}").format(sql.Literal(info.get("user", "qa")))]
        if info.get("password"):
            umap.append(sql.SQL("password {}").format(sql.Literal(info["password"])))
        conn.execute(
            sql.SQL("CREATE USER MAPPING FOR CURRENT_USER SERVER {} OPTIONS ({})").format(
                sql.Identifier(server), sql.SQL(", ").join(umap)
            )
        )
    for name in DATA_TABLES:
        _data_table(conn, schema, name, partitioned_by=len(shards))
        for i, server in enumerate(servers):
            conn.execute(
                sql.SQL(
                    "CREATE FOREIGN TABLE {} PARTITION OF {} "
                    "FOR VALUES WITH (MODULUS {}, REMAINDER {}) SERVER {} "
                    "OPTIONS (schema_name {}, table_name {})"
                ).format(
                    q(schema, f"{name}_p{i}"),
                    q(schema, name),
                    sql.Literal(len(servers)),
                    sql.Literal(i),
                    sql.Identifier(server),
                    sql.Literal(schema),
                    sql.Literal(name),
                )
            )
    for name, cols in _LOCAL.items():
        conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(q(schema, name), sql.SQL(cols))
        )


def leaves(conn, schema: str, table: str) -> list[tuple[str, str | None]]:
    """[(relation name, foreign server or None)]: the partitions of a partitioned table (on
    the shards when they are foreign tables), else the table itself."""
    rows = conn.execute(
        """SELECT c.relname, s.srvname
           FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid
           LEFT JOIN pg_foreign_table f ON f.ftrelid = c.oid
           LEFT JOIN pg_foreign_server s ON s.oid = f.ftserver
           WHERE i.inhparent = to_regclass(%s)
           ORDER BY c.relname""",
        (f"{schema}.{table}",),
    ).fetchall()
    return [(r[0], r[1]) for r in rows] or [(table, None)]


def on_every_node(conn, schema: str, table: str, ddl: str) -> None:
    """Run DDL for ``table`` where its rows live: here, or on each shard (through dblink and
    the coordinator's foreign servers; postgres_fdw cannot send DDL)."""
    for _, server in leaves(conn, schema, table):
        if server is None:
            conn.execute(ddl)
        else:
            conn.execute("SELECT dblink_exec(%s, %s)", (server, ddl))


def postings_indexes(conn, schema: str, present: bool) -> None:
    """Drop the postings indexes before a full bulk load and build them after: one sort
    instead of millions of random B-tree inserts. Inside the load's transaction, so on one
    node only: on shards the coordinator's remote transaction holds the table's lock, and DDL
    from another session (dblink) would wait for it forever."""
    if any(server for _, server in leaves(conn, schema, "postings")):
        return
    for ddl in _POSTINGS_INDEXES:
        if not present:
            ddl = f"DROP INDEX IF EXISTS {{schema}}.{ddl.split()[5]}"
        conn.execute(ddl.format(schema=schema))


def ensure_ann(conn, schema: str, table: str, n_rows: int) -> bool:
    """Build the HNSW graph on ``table`` (on every shard) once it holds ANN_MIN rows. Returns
    whether one exists now."""
    if n_rows < ANN_MIN:
        return False
    ddl = (
        f"CREATE INDEX IF NOT EXISTS {table}_hnsw ON {schema}.{table} "
        f"USING hnsw (embedding vector_ip_ops) "
        f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
    )
    on_every_node(conn, schema, table, ddl)
    return True


def init(dsn: str | None, shards: list[str], schema: str) -> str:
    """`qa pg-init`: the tables on one node, or on a coordinator and its shards."""
    from psycopg.conninfo import conninfo_to_dict

    from qa.store.postgres.connect import connect

    check_schema(schema)
    with connect(dsn) as conn:
        if not shards:
            create_local(conn, schema)
            return f"schema {schema} ready on one node"
        infos = []
        for shard in shards:
            with connect(shard) as sconn:
                create_shard(sconn, schema)
            infos.append(conninfo_to_dict(shard))
        create_coordinator(conn, schema, infos)
    return f"schema {schema} ready: coordinator with {len(shards)} shards"
