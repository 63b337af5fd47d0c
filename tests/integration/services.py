"""Real third-party services on loopback for the integration tests, each stopped afterwards.

PostgreSQL is a container of our stand-in image (tools/node/images/postgres) run through
testcontainers on a private dockerd where that works (tests/integration/docker_engine.py), else
Debian's `postgresql` package as a process (initdb + pg_ctl in a temp dir); either way TLS on,
password auth over TCP and a trusted Unix socket, as the official image has it. The GCS emulator
comes from PyPI's `gcp-storage-emulator`.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.cloud import storage

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


# Runs a command where the server runs (in its container, or beside its process), with `env`
# added to what the image or the package provides; returns its exit code and output.
Beside = Callable[[list[str], dict[str, str]], "subprocess.CompletedProcess[str]"]


@dataclass
class Postgres:
    host: str
    port: int
    superuser: str
    superuser_password: str
    # Where psql and friends reach the server over its Unix socket, as a pod's hook does.
    run_beside: Beside

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


PASSWORD = "integration-superuser"
# The official image's data layout in our pod: PGDATA one level below the volume's mount.
PGDATA = "/var/lib/postgresql/data/pgdata"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """server.crt and server.key (0600): a server with TLS on, as Cloud SQL is (the stacks
    reach Cloud SQL through the Auth Proxy; the tests connect with sslmode=require)."""
    cert, key = directory / "server.crt", directory / "server.key"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(
        ["openssl", *request, "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    key.chmod(0o600)
    return cert, key


@contextlib.contextmanager
def debian_postgres() -> Iterator[Postgres]:
    """Debian's PostgreSQL as a process, set up as the official image sets itself up."""
    bindir = postgres_bin_dir()
    if bindir is None:
        raise FileNotFoundError("Debian package postgresql is not installed")
    # Not under pytest's tmp_path: the postgres user must be able to reach the directory.
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-platform-pg-"))
    try:
        with _run_postgres(bindir, workdir) as pg:
            yield pg
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def _run_postgres(bindir: Path, workdir: Path) -> Iterator[Postgres]:
    data, sockets = workdir / "data", workdir / "sockets"
    sockets.mkdir(parents=True)
    pwfile = workdir / "pwfile"
    pwfile.write_text(PASSWORD + "\n")
    cert, key = self_signed_certificate(workdir)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
        for path in workdir.rglob("*"):
            shutil.chown(path, "postgres", "postgres")
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}"]
    subprocess.run(
        _as_postgres_user(
            [*initdb, "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = (
        f"-p {port} -k {sockets} -c listen_addresses={LOOPBACK} -c ssl=on "
        f"-c ssl_cert_file={cert} -c ssl_key_file={key}"
    )
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(workdir / "postgres.log")]
    subprocess.run(
        _as_postgres_user([*pg_ctl, "-o", options, "-w", "start"]), check=True, capture_output=True
    )

    def run_beside(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        # What the image's PATH and libpq defaults give a command in the pod, pointed at ours.
        local = {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "PGHOST": str(sockets)}
        return subprocess.run(
            command,
            env={**local, "PGPORT": str(port), **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    try:
        yield Postgres(LOOPBACK, port, "postgres", PASSWORD, run_beside)
    finally:
        subprocess.run(
            _as_postgres_user([*pg_ctl, "-m", "fast", "-w", "stop"]), capture_output=True
        )


@contextlib.contextmanager
def container_postgres(image: str, uid: int) -> Iterator[Postgres]:
    """testcontainers' PostgresContainer from `image`, run as the in-cluster pod runs it: as
    `uid`, read-only root, tmpfs for /tmp and the socket directory, PGDATA below the volume.
    Needs the engine's environment (tests/integration/docker_engine.py)."""
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.core.container import ExecConfig

    certs = Path(tempfile.mkdtemp(prefix="mlflow-platform-pg-certs-"))
    try:
        self_signed_certificate(certs)
        certs.chmod(0o755)
        # PostgreSQL reads its key only when the server's user owns it.
        for path in certs.iterdir():
            os.chown(path, uid, uid)
        container = (
            PostgresContainer(
                image,
                username="postgres",
                password=PASSWORD,
                dbname="postgres",
            )
            # Passed on to the engine's create call (PostgresContainer keeps `user` for itself).
            .with_kwargs(user=f"{uid}:{uid}", read_only=True)
            .with_env("PGDATA", PGDATA)
            .with_tmpfs_mount("/tmp")
            .with_tmpfs_mount("/var/run/postgresql")
            .with_volume_mapping(certs, "/certs", "ro")
            .with_command(
                "postgres -c ssl=on -c ssl_cert_file=/certs/server.crt"
                " -c ssl_key_file=/certs/server.key"
            )
        )
        with container:

            def run_beside(
                command: list[str], env: dict[str, str]
            ) -> subprocess.CompletedProcess[str]:
                done = container.exec(ExecConfig(command=command, environment=env))
                output = done.output.decode(errors="replace")
                return subprocess.CompletedProcess(command, done.exit_code or 0, output, "")

            host = container.get_container_host_ip()
            port = int(container.get_exposed_port(5432))
            yield Postgres(host, port, "postgres", PASSWORD, run_beside)
    finally:
        shutil.rmtree(certs, ignore_errors=True)


@dataclass
class GcsEmulator:
    endpoint: str

    def client(self) -> storage.Client:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project="test",
            # google-auth's Credentials.__init__ is unannotated.
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
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
