"""Serving capacity of the rendered MLflow server against MLflow's defaults: `make bench-serve`.

One real PostgreSQL (tests/integration/services.py) holds one tracking database, seeded in bulk
with BENCH_RUNS runs (10,000) through MLflow's own table models; one directory holds the
artifacts. Each server runs in turn on them, pinned to as many cores as the rendered container's
CPU limit allows (the baseline too: the same pod shape, MLflow's settings):

- the baseline: `mlflow server` with MLflow's defaults (its default workers);
- the local, dev and prod servers exactly as those stacks render them (command, args, env from
  the ConfigMap and Secrets, the basic-auth ini, the `auth-admin` init container), with hosts,
  ports and the artifact destination swapped (a GCS destination is measured on the directory:
  the emulator, not MLflow, would be the bottleneck);
- the dev server with its login off, and with the other credential-cache setting, so the cost
  of basic auth and what MLflow's cache (`auth_cache_ttl_seconds`) buys are measured apart.

Measured on each: log_batch calls per second from 8 concurrent clients, p50/p95 of search_runs
(filter and order on a metric, 100 of the seeded runs) and of a 2,000-point metric history,
proxied artifact upload and download (BENCH_ARTIFACT_MIB, default 100 and 1100 MiB), and the
server's peak memory. BENCH_QUICK=1 is a smoke run. A benchmark, not a test: it fails only if
a server does not answer correctly, never on a number.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from components.config.quantities import parse_quantity
from tests.bench.serve_report import MiB, Result, Settings, mib_per_s, settings, table
from tests.harness import run_stack
from tests.integration import services
from tests.integration.test_mlflow_workload import (
    MLFLOW,
    PYTHON,
    RenderedWorkload,
    local_auth_config,
    local_env,
    substitute,
)

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
# Every stack renders the same database, role and user-store names; only the password differs.
DATABASE, ROLE, AUTH_DATABASE = "mlflow", "mlflow", "mlflow_auth"
SEED_PASSWORD = "bench-seed-password"
CANDIDATES = ("local", "dev", "prod")
LOGIN_STACK = "dev"
CACHE_SECONDS = 60
CACHE_KEY = "auth_cache_ttl_seconds"
MLFLOW_DEFAULT_WORKERS = 4  # `mlflow server --help` (3.17.2): "--workers ... (default: 4)"
Auth = tuple[str, str]


@dataclass(frozen=True)
class Seeded:
    experiment_id: str
    history_run: str
    seconds: float


@dataclass(frozen=True)
class Bench:
    pg: services.Postgres
    workdir: Path
    artifacts: Path
    settings: Settings
    seeded: Seeded
    files: dict[int, Path]  # MiB -> a file of that size


@dataclass(frozen=True)
class Server:
    name: str
    argv: list[str]  # after `mlflow`
    env: dict[str, str]
    port: int
    db_password: str
    cores: int
    host: str | None = None  # the Host header (the ingress host); None: the loopback address
    auth: Auth | None = None
    admin: tuple[list[str], dict[str, str]] | None = None  # the `auth-admin` init container


# --- pure helpers (tests/test_bench_serve.py) -----------------------------------------------


def with_cache_ttl(ini: str, seconds: int) -> str:
    """The basic-auth ini with MLflow's credential cache set to `seconds` (0: off)."""
    lines = [line for line in ini.splitlines() if not line.startswith(CACHE_KEY)]
    at = lines.index("[mlflow]") + 1
    return "\n".join([*lines[:at], f"{CACHE_KEY} = {seconds}", *lines[at:]]) + "\n"


def cache_ttl(ini: str) -> int:
    """The credential cache's TTL the ini sets (MLflow's default: 0, off)."""
    found = re.search(rf"^{CACHE_KEY}\s*=\s*(\d+)\s*$", ini, re.MULTILINE)
    return int(found.group(1)) if found else 0


def cores_for(cpu_limit: str, available: list[int]) -> list[int]:
    """The last cores of `available`, as many as the CPU limit rounds up to."""
    wanted = max(1, math.ceil(parse_quantity(cpu_limit)))
    return available[-wanted:]


def worker_pids(log: str) -> set[str]:
    return set(re.findall(r"Started server process \[(\d+)\]", log))


def killed_workers(log: str) -> int:
    """Workers uvicorn's supervisor killed and replaced: a worker too busy to answer its 5 s
    health check is taken for hung (its open requests are dropped)."""
    return len(re.findall(r"Child process \[\d+\] died", log))


def worker_count(argv: list[str], log: str) -> int:
    """The `--workers` given, else the workers MLflow started by default (from the log)."""
    if "--workers" in argv:
        return int(argv[argv.index("--workers") + 1])
    if not log:
        return MLFLOW_DEFAULT_WORKERS
    return len(worker_pids(log)) - killed_workers(log)


# --- the database, the seed and the artifact files ------------------------------------------


def set_role_password(pg: services.Postgres, password: str) -> None:
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(pg.dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(ROLE), sql.Literal(password))
        )
    conn.close()


def _run_rows(experiment_id: str, count: int, start: int) -> list[dict[str, Any]]:
    return [
        {
            "run_uuid": uuid.uuid4().hex,
            "name": f"seeded-{i}",
            "source_type": "LOCAL",
            "source_name": "bench",
            "entry_point_name": "",
            "user_id": "bench",
            "status": "FINISHED",
            "start_time": start + i,
            "end_time": start + i + 60_000,
            "source_version": "",
            "lifecycle_stage": "active",
            "artifact_uri": f"mlflow-artifacts:/{experiment_id}/runs",
            "experiment_id": int(experiment_id),
        }
        for i in range(count)
    ]


def _children(runs: list[dict[str, Any]], start: int) -> dict[str, list[dict[str, Any]]]:
    """Two metrics (history and latest), two params and the run-name tag per run."""
    metrics = [
        {"key": key, "value": (i * 7919 % 10_000) / 10_000, "timestamp": start, "step": 0}
        | {"is_nan": False, "run_uuid": run["run_uuid"]}
        for i, run in enumerate(runs)
        for key in ("loss", "accuracy")
    ]
    params = [
        {"key": key, "value": str(value), "run_uuid": run["run_uuid"]}
        for i, run in enumerate(runs)
        for key, value in (("lr", 10 ** -(i % 4 + 1)), ("batch_size", 2 ** (i % 5 + 4)))
    ]
    tags = [{"key": "mlflow.runName", "value": r["name"], "run_uuid": r["run_uuid"]} for r in runs]
    return {"metrics": metrics, "latest_metrics": metrics, "params": params, "tags": tags}


def seed(uri: str, artifacts: Path, settings: Settings) -> Seeded:
    """An experiment with `settings.runs` finished runs, plus one run with a long history."""
    # Base is defined in mlflow.store.db.base_sql_model; models re-exports it implicitly, and
    # importing it from there registers the tables.
    from mlflow.store.tracking.dbmodels.models import Base  # type: ignore[attr-defined]
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    # SqlAlchemyStore's constructor, create_experiment and create_run are unannotated.
    begin = time.monotonic()
    # Migrates the empty database, as MLflow does.
    store = SqlAlchemyStore(uri, str(artifacts))  # type: ignore[no-untyped-call]
    experiment_id = store.create_experiment("bench-seeded")  # type: ignore[no-untyped-call]
    tables = Base.metadata.tables
    now = int(time.time() * 1000)
    with store.engine.begin() as conn:
        for offset in range(0, settings.runs, 2000):
            runs = _run_rows(experiment_id, min(2000, settings.runs - offset), now + offset)
            conn.execute(tables["runs"].insert(), runs)
            for name, rows in _children(runs, now).items():
                conn.execute(tables[name].insert(), rows)
    history = store.create_run(experiment_id, "bench", now, [], "history").info.run_id  # type: ignore[no-untyped-call]
    points = [
        {"key": "loss", "value": 1 / (step + 1), "timestamp": now + step, "step": step}
        | {"is_nan": False, "run_uuid": history}
        for step in range(settings.history_points)
    ]
    with store.engine.begin() as conn:
        conn.execute(tables["metrics"].insert(), points)
        conn.execute(tables["latest_metrics"].insert(), points[-1:])
    store.engine.dispose()
    return Seeded(experiment_id, history, time.monotonic() - begin)


def artifact_file(directory: Path, mib: int) -> Path:
    path = directory / f"artifact-{mib}.bin"
    chunk = os.urandom(MiB)
    with path.open("wb") as out:
        for _ in range(mib):
            out.write(chunk)
    return path


# --- the servers ---------------------------------------------------------------------------


def baseline(bench: Bench, cores: int) -> Server:
    """`mlflow server` with MLflow's defaults: only the stores and the address are given."""
    port = services.free_port()
    pg = bench.pg
    uri = f"postgresql+psycopg2://{ROLE}:{SEED_PASSWORD}@{pg.host}:{pg.port}/{DATABASE}"
    argv = ["server", "--host", services.LOOPBACK, "--port", str(port)]
    argv += ["--backend-store-uri", uri, "--artifacts-destination", str(bench.artifacts)]
    # No network here: MLflow's telemetry thread would be measured failing, not the server.
    return Server(
        "baseline", argv, {"MLFLOW_DISABLE_TELEMETRY": "true"}, port, SEED_PASSWORD, cores
    )


def candidate(bench: Bench, stack: str) -> Server:
    """The stack's rendered server container, its stores swapped for the bench's."""
    workload = RenderedWorkload(run_stack(stack))
    argv, env = workload.command("mlflow")
    port = services.free_port()
    argv = substitute(argv, bench.pg, port, {})[1:]
    at = argv.index("--artifacts-destination") + 1
    argv[at] = str(bench.artifacts)
    if "--expose-prometheus" in argv:  # the exporter's emptyDir
        at = argv.index("--expose-prometheus") + 1
        argv[at] = str(bench.workdir / stack / "metrics")
    env = local_env(env, bench.pg)
    password = re.search(r"//[^:]+:([^@]+)@", env["MLFLOW_BACKEND_STORE_URI"])
    assert password, "the rendered backend URI carries no password"
    limit = workload.container("mlflow")["resources"]["limits"]["cpu"]
    server = Server(
        stack,
        argv,
        env,
        port,
        password.group(1),
        len(cores_for(limit, _available())),
        workload.host,
    )
    auth = local_auth_config(workload, bench.pg, bench.workdir / stack / "auth")
    if auth is None:
        return server
    admin_argv, admin_env = workload.command("auth-admin")
    mounted = {"MLFLOW_AUTH_CONFIG_PATH": str(auth.config_path)}
    return replace(
        server,
        env={**env, **mounted},
        auth=(auth.admin_username, admin_env["MLFLOW_AUTH_ADMIN_PASSWORD"]),
        admin=(admin_argv[1:], {**admin_env, **mounted}),
    )


def login_off(server: Server) -> Server:
    at = server.argv.index("--app-name")
    argv = server.argv[:at] + server.argv[at + 2 :]
    env = {k: v for k, v in server.env.items() if not k.startswith("MLFLOW_AUTH_")}
    name = f"{server.name}, login off"
    return replace(server, name=name, argv=argv, env=env, auth=None, admin=None)


def with_cache(server: Server, seconds: int) -> Server:
    rendered = Path(server.env["MLFLOW_AUTH_CONFIG_PATH"])
    path = rendered.with_name(f"cache-{seconds}.ini")
    path.write_text(with_cache_ttl(rendered.read_text(), seconds))
    env = {**server.env, "MLFLOW_AUTH_CONFIG_PATH": str(path)}
    assert server.admin is not None  # a server with the login on
    admin = (server.admin[0], {**server.admin[1], "MLFLOW_AUTH_CONFIG_PATH": str(path)})
    return replace(server, name=f"{server.name}, {cache_label(seconds)}", env=env, admin=admin)


def cache_label(seconds: int) -> str:
    return f"cache {seconds} s" if seconds else "no cache"


def _available() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def _process_env(bench: Bench, server: Server) -> dict[str, str]:
    home = bench.workdir / "home" / server.name.replace(" ", "_").replace(",", "")
    scratch = home / "tmp"  # the pod's /tmp emptyDir, where uploads are spooled
    scratch.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{Path(MLFLOW).parent}:{os.environ.get('PATH', '')}",
        "MLFLOW_TRACKING_URI": "",
        **server.env,
        "HOME": str(home),
        "TMPDIR": str(scratch),
    }


@contextlib.contextmanager
def running(bench: Bench, server: Server) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """The server, and the seconds from its start to its first healthy answer."""
    set_role_password(bench.pg, server.db_password)
    env = _process_env(bench, server)
    if server.admin is not None:
        admin = subprocess.run(
            [PYTHON, *server.admin[0]],
            env={**env, **server.admin[1]},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if admin.returncode != 0:
            raise RuntimeError(admin.stderr[-3000:])
    cores = set(_available()[-server.cores :])
    log_path = Path(env["HOME"]) / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [MLFLOW, *server.argv],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: os.sched_setaffinity(0, cores),
        )
        start, leftovers = time.monotonic(), set()
        try:
            _wait_ready(f"http://{services.LOOPBACK}:{server.port}/health", process, log_path)
            _wait_for_workers(log_path, worker_count(server.argv, ""))
            leftovers = job_queue_dirs(process.pid)
            yield process, time.monotonic() - start
        except BaseException:
            print(f"{server.name}'s log:\n{log_path.read_text()[-4000:]}", file=sys.stderr)
            raise
        finally:
            # Killed, not stopped: nothing of a server outlives the bench but its job queue
            # directories, removed below, and MLflow's job runner takes seconds to stop.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
            for directory in leftovers:
                shutil.rmtree(directory, ignore_errors=True)


def _wait_for_workers(log: Path, workers: int) -> None:
    """/health answers from the first worker up; the others may still be importing MLflow."""
    deadline = time.monotonic() + 180
    while log.read_text().count("Application startup complete.") < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {workers} workers started: {log.read_text()[-4000:]}")
        time.sleep(0.5)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text()[-4000:])
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError("server not ready: " + log.read_text()[-4000:])


def group(pgid: int) -> list[Path]:
    """/proc entries of the processes in a process group (the server, its workers, its job
    runner and consumers)."""
    members = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid:
                    members.append(Path(entry.path))
    return members


def group_memory(pgid: int) -> int:
    """Proportional set size (bytes) of the server's processes, shared pages counted once."""
    total = 0
    for member in group(pgid):
        with contextlib.suppress(OSError, ValueError, StopIteration):
            rollup = (member / "smaps_rollup").read_text().splitlines()
            total += next(int(x.split()[1]) for x in rollup if x.startswith("Pss:")) * 1024
    return total


def job_queue_dirs(pgid: int) -> set[Path]:
    """The job queue directories a server with MLflow's job runner on (the baseline) makes in
    /dev/shm and leaves behind when it stops."""
    found = set()
    for member in group(pgid):
        with contextlib.suppress(OSError):
            for var in (member / "environ").read_bytes().split(b"\0"):
                name, _, value = var.partition(b"=")
                if name == b"_MLFLOW_HUEY_STORAGE_PATH" and value:
                    found.add(Path(value.decode()))
    return found


class PeakMemory(threading.Thread):
    def __init__(self, pgid: int) -> None:
        super().__init__(daemon=True)
        self.pgid, self.peak, self._done = pgid, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.25):
            self.peak = max(self.peak, group_memory(self.pgid))

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak / MiB


# --- the measurements ------------------------------------------------------------------------


class Client:
    def __init__(self, server: Server) -> None:
        self.base = f"http://{services.LOOPBACK}:{server.port}"
        self.headers = {"Host": server.host} if server.host else {}
        self.auth = server.auth

    def session(self) -> requests.Session:
        session = requests.Session()
        session.auth = self.auth
        session.headers.update(self.headers)
        return session

    def call(
        self, session: requests.Session, method: str, path: str, **kwargs: Any
    ) -> requests.Response:
        return session.request(method, self.base + path, timeout=600, **kwargs)

    def ok(self, session: requests.Session, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(session, method, path, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None


def _hammer(
    client: Client, runs: list[str], seconds: float, per_batch: int
) -> tuple[int, int, float]:
    """Every client logs batches to its own run until the deadline: (ok, errors, seconds)."""
    deadline = time.monotonic() + seconds

    def one_client(run_id: str) -> tuple[int, int]:
        session, ok, errors, step = client.session(), 0, 0, 0
        while time.monotonic() < deadline:
            now = int(time.time() * 1000)
            metrics = [
                {"key": f"m{i}", "value": step / 3, "timestamp": now, "step": step}
                for i in range(per_batch)
            ]
            body = {"run_id": run_id, "metrics": metrics}
            response = client.call(session, "POST", f"{API}/runs/log-batch", json=body)
            ok, errors = (ok + 1, errors) if response.status_code == 200 else (ok, errors + 1)
            step += 1
        return ok, errors

    start = time.monotonic()
    with ThreadPoolExecutor(len(runs)) as pool:
        outcomes = list(pool.map(one_client, runs))
    return sum(o for o, _ in outcomes), sum(e for _, e in outcomes), time.monotonic() - start


def log_batch(client: Client, settings: Settings) -> tuple[float, int]:
    session = client.session()
    name = f"load-{uuid.uuid4().hex[:8]}"
    experiment = client.ok(session, "POST", f"{API}/experiments/create", json={"name": name})
    body = {"experiment_id": experiment["experiment_id"]}
    runs = [
        client.ok(session, "POST", f"{API}/runs/create", json=body)["run"]["info"]["run_id"]
        for _ in range(settings.clients)
    ]
    _hammer(client, runs, 1.0, settings.metrics_per_batch)  # every worker warm
    ok, errors, seconds = _hammer(client, runs, settings.seconds, settings.metrics_per_batch)
    return ok / seconds, errors


def timed(call: Callable[[], None], samples: int) -> list[float]:
    call()  # warm
    latencies = []
    for _ in range(samples):
        start = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - start)
    return latencies


def search_runs(client: Client, seeded: Seeded) -> Callable[[], None]:
    session = client.session()
    body = {
        "experiment_ids": [seeded.experiment_id],
        "filter": "metrics.loss < 0.5",
        "order_by": ["metrics.loss ASC"],
        "max_results": 100,
    }

    def call() -> None:
        runs = client.ok(session, "POST", f"{API}/runs/search", json=body)["runs"]
        assert len(runs) == 100, len(runs)

    return call


def metric_history(client: Client, seeded: Seeded, points: int) -> Callable[[], None]:
    session = client.session()
    params = {"run_id": seeded.history_run, "metric_key": "loss"}

    def call() -> None:
        metrics = client.ok(session, "GET", f"{API}/metrics/get-history", params=params)
        assert len(metrics["metrics"]) == points, len(metrics["metrics"])

    return call


def roundtrip(client: Client, seeded: Seeded, source: Path) -> tuple[float, float]:
    """MiB/s of a proxied upload, then of its download."""
    size = source.stat().st_size
    path = f"{ARTIFACTS_API}/{seeded.experiment_id}/{seeded.history_run}/artifacts/"
    path += f"{uuid.uuid4().hex[:8]}/{source.name}"
    session = client.session()
    start = time.perf_counter()
    with source.open("rb") as body:
        client.ok(session, "PUT", path, data=body)
    up = time.perf_counter() - start
    start = time.perf_counter()
    with client.call(session, "GET", path, stream=True) as response:
        assert response.status_code == 200, response.status_code
        received = sum(len(chunk) for chunk in response.iter_content(MiB))
    down = time.perf_counter() - start
    assert received == size, (received, size)
    return mib_per_s(size, up), mib_per_s(size, down)


def measure(bench: Bench, server: Server, artifacts: bool = True) -> Result:
    begin = time.monotonic()
    with running(bench, server) as (process, ready):
        result = Result(server.name, 0, ready_s=ready)
        before = os.getloadavg()[0]
        peak = PeakMemory(process.pid)
        peak.start()
        client = Client(server)
        result.log_batch, result.log_batch_errors = log_batch(client, bench.settings)
        result.search = timed(search_runs(client, bench.seeded), bench.settings.samples)
        points = bench.settings.history_points
        result.history = timed(metric_history(client, bench.seeded, points), bench.settings.samples)
        for mib, source in bench.files.items() if artifacts else ():
            result.upload[mib], result.download[mib] = roundtrip(client, bench.seeded, source)
        result.peak_memory_mib = peak.stop()
        result.load = (before, os.getloadavg()[0])
        log = (Path(_process_env(bench, server)["HOME"]) / "server.log").read_text()
    result.workers = worker_count(server.argv, log)
    result.worker_kills = killed_workers(log)
    took = time.monotonic() - begin
    print(f"  {server.name}: ready in {ready:.0f} s, done in {took:.0f} s", file=sys.stderr)
    shutil.rmtree(bench.artifacts / bench.seeded.experiment_id, ignore_errors=True)
    return result


# --- the run --------------------------------------------------------------------------------


def prepare(pg: services.Postgres, workdir: Path, settings: Settings) -> Bench:
    pg.reset_database(DATABASE, ROLE, SEED_PASSWORD)
    pg.reset_database(AUTH_DATABASE, ROLE, SEED_PASSWORD)
    artifacts = workdir / "artifacts"
    artifacts.mkdir()
    uri = f"postgresql+psycopg2://{ROLE}:{SEED_PASSWORD}@{pg.host}:{pg.port}/{DATABASE}"
    seeded = seed(uri, artifacts, settings)
    files = {mib: artifact_file(workdir, mib) for mib in settings.artifact_mib}
    return Bench(pg, workdir, artifacts, settings, seeded, files)


def machine(pg: services.Postgres) -> str:
    import mlflow
    import psycopg2

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    conn = psycopg2.connect(pg.dsn())
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        postgres = cur.fetchone()[0]
    conn.close()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{date}; {os.cpu_count()} x {model}; MLflow {mlflow.__version__}; "
        f"PostgreSQL {postgres}; Python {sys.version.split()[0]}"
    )


def run(pg: services.Postgres, workdir: Path, settings: Settings) -> list[list[Result]]:
    bench = prepare(pg, workdir, settings)
    print(f"seeded {settings.runs} runs in {bench.seeded.seconds:.1f} s", flush=True)
    servers = [candidate(bench, stack) for stack in settings.stacks]
    cores = max(s.cores for s in servers)
    main = [measure(bench, s) for s in [baseline(bench, cores), *servers]]
    # The login server as rendered is measured once, above; its variants without artifacts.
    login = servers[settings.stacks.index(LOGIN_STACK)]
    rendered = cache_ttl(Path(login.env["MLFLOW_AUTH_CONFIG_PATH"]).read_text())
    as_rendered = main[1 + settings.stacks.index(LOGIN_STACK)]
    as_rendered = replace(as_rendered, name=f"{login.name}, {cache_label(rendered)}")
    as_rendered.upload, as_rendered.download = {}, {}
    other = with_cache(login, 0 if rendered else CACHE_SECONDS)
    variants = [as_rendered, measure(bench, other, artifacts=False)]
    if settings.login_off:
        variants.insert(0, measure(bench, login_off(login), artifacts=False))
    return [main, variants]


def main() -> int:
    chosen = settings(os.environ)
    if services.postgres_bin_dir() is None:
        print("bench-serve needs PostgreSQL: apt-get install postgresql")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-bench-serve-"))
    try:
        with services.debian_postgres() as pg:
            print(machine(pg))
            print(f"settings: {chosen}", flush=True)
            main_results, login_results = run(pg, workdir, chosen)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nEach server against MLflow's defaults (ratio to the first column):")
    print(table(main_results))
    print(f"\nThe login on the {LOGIN_STACK} server (ratio to the first column):")
    print(table(login_results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
