"""Real third-party services on loopback for the integration tests, each stopped afterwards.

PostgreSQL comes from Debian's `postgresql` package (initdb + pg_ctl in a temp dir, TLS on,
password auth); the GCS emulator from PyPI's `gcp-storage-emulator`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def wait_for_port(
    port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before port {port} opened"
            )
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listened on {LOOPBACK}:{port} within {timeout}s")


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def postgres_bin_dir() -> Path | None:
    """The newest Debian PostgreSQL server binaries, if the package is installed."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parent.parent.name)
    )
    return Path(candidates[-1]).parent if candidates else None


@dataclass
class Postgres:
    host: str
    port: int
    superuser: str
    superuser_password: str
    socket_dir: Path | None = None

    def dsn(
        self, database: str = "postgres", user: str | None = None, password: str | None = None
    ) -> str:
        return (
            f"host={self.host} port={self.port} dbname={database} "
            f"user={user or self.superuser} password={password or self.superuser_password} "
            "sslmode=require"
        )

    def reset_database(self, database: str, user: str, password: str) -> None:
        """A fresh, empty database owned by `user` (as a new Cloud SQL instance would have)."""
        import psycopg2
        from psycopg2 import sql

        conn = psycopg2.connect(self.dsn())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            cur.execute(
                sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(user), sql.Literal(password)
                )
            )
            cur.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(user)
                )
            )
        conn.close()


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; CI runs as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextlib.contextmanager
def debian_postgres(local_auth: str = "scram-sha-256") -> Iterator[Postgres]:
    """`local_auth` is the Unix-socket method; the official image uses trust there."""
    bindir = postgres_bin_dir()
    if bindir is None:
        raise FileNotFoundError("Debian package postgresql is not installed")
    # Not under pytest's tmp_path: the postgres user must be able to reach the directory.
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-platform-pg-"))
    try:
        with _run_postgres(bindir, workdir, local_auth) as pg:
            yield pg
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def _run_postgres(bindir: Path, workdir: Path, local_auth: str) -> Iterator[Postgres]:
    data, sockets = workdir / "data", workdir / "sockets"
    sockets.mkdir(parents=True)
    password = "integration-superuser"
    pwfile = workdir / "pwfile"
    pwfile.write_text(password + "\n")
    # A self-signed certificate: the dev stack connects with sslmode=require, as Cloud SQL demands.
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(workdir / "server.key"),
            "-out",
            str(workdir / "server.crt"),
        ],
        check=True,
        capture_output=True,
    )
    (workdir / "server.key").chmod(0o600)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
        for path in workdir.rglob("*"):
            shutil.chown(path, "postgres", "postgres")
    subprocess.run(
        _as_postgres_user(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                f"--auth-local={local_auth}",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = (
        f"-p {port} -k {sockets} -c listen_addresses={LOOPBACK} -c ssl=on "
        f"-c ssl_cert_file={workdir / 'server.crt'} -c ssl_key_file={workdir / 'server.key'}"
    )
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(workdir / "postgres.log")]
    subprocess.run(
        _as_postgres_user([*pg_ctl, "-o", options, "-w", "start"]), check=True, capture_output=True
    )
    try:
        yield Postgres(LOOPBACK, port, "postgres", password, sockets)
    finally:
        subprocess.run(
            _as_postgres_user([*pg_ctl, "-m", "fast", "-w", "stop"]), capture_output=True
        )


@contextlib.contextmanager
def container_postgres() -> Iterator[Postgres]:
    """Where Docker exists but the Debian package does not: testcontainers' PostgresContainer."""
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer(
        "postgres:16.10-bookworm", username="postgres", password="pw", dbname="postgres"
    ) as container:
        yield Postgres(
            container.get_container_host_ip(),
            int(container.get_exposed_port(5432)),
            "postgres",
            "pw",
        )


@dataclass
class GcsEmulator:
    endpoint: str

    def client(self):  # type: ignore[no-untyped-def]
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project="test",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )


@contextlib.contextmanager
def gcs_emulator(workdir: Path) -> Iterator[GcsEmulator]:
    port = free_port()
    exe = Path(sys.executable).parent / "gcp-storage-emulator"
    log = (workdir / "gcs-emulator.log").open("wb")
    process = subprocess.Popen(
        [str(exe), "start", "--host", LOOPBACK, "--port", str(port), "--in-memory", "--quiet"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 30, process)
        yield GcsEmulator(f"http://{LOOPBACK}:{port}")
    finally:
        stop_process_group(process)
        log.close()
