"""The basic-auth login, as the dev stack renders it, really guards MLflow.

Real PostgreSQL (the tracking database and, beside it, the user store `mlflow_auth`), real
MLflow, emulated GCS. Each pod runs as rendered (`serving` in test_mlflow_workload.py): the
migration Job's containers, the `auth-admin` init container, then `mlflow server` with the
basic-auth app and the rendered number of workers, its ini file from the auth Secret. Every
request carries the
ingress host as its Host header, as the ingress sends it.

The tests share one server (the module's first pod). The rotation test comes last: it changes
the admin password in the shared user store.
"""

from __future__ import annotations

import configparser
import copy
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.harness import Capture
from tests.integration import services
from tests.integration.test_mlflow_workload import (
    RenderedWorkload,
    Serving,
    _log_a_run,
    log_in,
    resolve_to_loopback,
    serving,
)

pytestmark = pytest.mark.integration

API = "/api/2.0/mlflow"
SEARCH = f"{API}/experiments/search"
CREATE_USER = f"{API}/users/create"
Auth = tuple[str, str]


class Api:
    """One server's REST API on loopback, addressed by the ingress host."""

    def __init__(self, server: Serving) -> None:
        self.base = f"http://{services.LOOPBACK}:{server.port}"
        self.headers = {"Host": server.host}

    def request(
        self,
        method: str,
        path: str,
        auth: Auth | None = None,
        session: requests.Session | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return (session or requests).request(
            method, self.base + path, auth=auth, headers=headers, timeout=30, **kwargs
        )

    def get(self, path: str, auth: Auth | None = None, **params: Any) -> requests.Response:
        return self.request("GET", path, auth, params=params)

    def post(self, path: str, auth: Auth | None, body: dict[str, Any]) -> requests.Response:
        return self.request("POST", path, auth, json=body)

    def ok(self, method: str, path: str, auth: Auth, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, auth, **kwargs)
        assert response.status_code == 200, (method, path, response.status_code, response.text)
        return dict(response.json())


def new_user(api: Api, admin: Auth, prefix: str) -> Auth:
    """A user the admin creates through the API."""
    user = (f"{prefix}-{uuid.uuid4().hex[:8]}", secrets.token_hex(16))
    api.ok("POST", CREATE_USER, admin, json={"username": user[0], "password": user[1]})
    return user


def search_statuses(api: Api, auth: Auth | None, times: int = 4) -> set[int]:
    """The status codes of a few searches (with two workers, likely answered by both)."""
    return {api.get(SEARCH, auth, max_results=1).status_code for _ in range(times)}


def create_experiment(api: Api, auth: Auth, name: str) -> str:
    return str(
        api.ok("POST", f"{API}/experiments/create", auth, json={"name": name})["experiment_id"]
    )


def create_run(api: Api, auth: Auth, experiment_id: str) -> str:
    body = {"experiment_id": experiment_id}
    return str(api.ok("POST", f"{API}/runs/create", auth, json=body)["run"]["info"]["run_id"])


def secret_ref(workload: RenderedWorkload, container: str, env: str) -> dict[str, str]:
    var = next(v for v in workload.container(container)["env"] if v["name"] == env)
    return dict(var["valueFrom"]["secretKeyRef"])


def pod_dir(tmp_path: Path, name: str) -> Path:
    """Where a further pod of the Deployment keeps its files (log, mounted ini, home)."""
    directory = tmp_path / name
    directory.mkdir()
    return directory


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workload(stacks: dict[str, Capture]) -> RenderedWorkload:
    return RenderedWorkload(stacks["dev"])


@pytest.fixture(scope="module")
def first(
    workload: RenderedWorkload,
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Serving]:
    """The Deployment's first pod, on fresh databases and a fresh bucket."""
    with serving(workload, postgres, gcs, tmp_path_factory.mktemp("first-pod")) as server:
        yield server


@pytest.fixture
def admin(first: Serving, workload: RenderedWorkload) -> Auth:
    """The rendered admin: "admin", with the password the auth Secret holds."""
    ref = secret_ref(workload, "auth-admin", "MLFLOW_AUTH_ADMIN_PASSWORD")
    assert ref["key"] == "admin-password"
    # Only `auth-admin` holds it: the server starts with the admin already in the store.
    assert "MLFLOW_AUTH_ADMIN_PASSWORD" not in workload.command("mlflow")[1]
    credentials = ("admin", workload.secrets[ref["name"]]["admin-password"])
    assert first.admin == credentials
    return credentials


# --- the tests -----------------------------------------------------------------------------


def test_the_api_needs_a_login_and_the_probes_do_not(
    first: Serving, workload: RenderedWorkload, admin: Auth
) -> None:
    api = Api(first)
    anonymous = api.get(SEARCH, max_results=1)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers.get("WWW-Authenticate", "").startswith("Basic")
    assert search_statuses(api, None) == {401}
    assert search_statuses(api, ("admin", "not-the-admin-password")) == {401}
    assert search_statuses(api, admin) == {200}

    server = workload.container("mlflow")
    kinds = ("startupProbe", "readinessProbe", "livenessProbe")
    assert {server[kind]["httpGet"]["path"] for kind in kinds} == {"/health"}
    # The kubelet probes without credentials, with the pod's IP and port as the Host header.
    kubelet = {"Host": f"10.244.0.7:{server['ports'][0]['containerPort']}"}
    statuses = {api.request("GET", "/health", headers=kubelet).status_code for _ in range(6)}
    assert statuses == {200}


def test_the_admin_logs_a_run_and_reads_it_back(
    first: Serving, admin: Auth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    # The MLflow client as the admin (MLFLOW_TRACKING_USERNAME / _PASSWORD): params, a metric
    # and an artifact through the proxied artifact endpoint, each read back.
    log_in(monkeypatch, first)
    run_id = _log_a_run(first.host, first.port, tmp_path)

    run = Api(first).ok("GET", f"{API}/runs/get", admin, params={"run_id": run_id})["run"]
    assert run["info"]["status"] == "FINISHED"
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    with resolve_to_loopback(first.host), pytest.raises(MlflowException, match="401"):
        MlflowClient(tracking_uri=f"http://{first.host}:{first.port}").get_run(run_id)


def test_a_second_user_reads_but_cannot_change_others_experiments(
    first: Serving,
    admin: Auth,
    postgres: services.Postgres,
) -> None:
    api = Api(first)
    name = f"admins-{uuid.uuid4().hex[:8]}"
    experiment_id = create_experiment(api, admin, name)
    run_id = create_run(api, admin, experiment_id)
    bob = new_user(api, admin, "bob")

    # default_permission READ: bob reads what nobody gave him...
    assert api.get(f"{API}/experiments/get", bob, experiment_id=experiment_id).status_code == 200
    assert api.get(f"{API}/runs/get", bob, run_id=run_id).status_code == 200
    assert search_statuses(api, bob) == {200}
    # ...but changes none of it.
    rename = {"experiment_id": experiment_id, "new_name": f"taken-{name}"}
    assert api.post(f"{API}/experiments/update", bob, rename).status_code == 403
    metric = {"run_id": run_id, "key": "loss", "value": 1.0, "timestamp": 0, "step": 0}
    assert api.post(f"{API}/runs/log-metric", bob, metric).status_code == 403
    delete = {"experiment_id": experiment_id}
    assert api.post(f"{API}/experiments/delete", bob, delete).status_code == 403
    # Nor is he an admin.
    mallory = {"username": f"mallory-{uuid.uuid4().hex[:8]}", "password": secrets.token_hex(16)}
    assert api.post(CREATE_USER, bob, mallory).status_code == 403

    params = {"experiment_id": experiment_id}
    experiment = api.ok("GET", f"{API}/experiments/get", admin, params=params)["experiment"]
    assert (experiment["name"], experiment["lifecycle_stage"]) == (name, "active")
    run = api.ok("GET", f"{API}/runs/get", admin, params={"run_id": run_id})["run"]
    assert not run["data"].get("metrics")

    # His own experiment is his to change.
    own_run = create_run(api, bob, create_experiment(api, bob, f"bobs-{name}"))
    api.ok("POST", f"{API}/runs/log-metric", bob, json={**metric, "run_id": own_run})

    # The users live in the user store on PostgreSQL that the rendered ini names.
    assert first.auth_database.path == "/mlflow_auth"
    assert users(postgres, first.auth_database) >= {("admin", True), (bob[0], False)}


def test_two_servers_share_the_users(
    first: Serving,
    admin: Auth,
    workload: RenderedWorkload,
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path: Path,
) -> None:
    directory = pod_dir(tmp_path, "second-pod")
    with serving(workload, postgres, gcs, directory, fresh=False) as second:
        one, two = Api(first), Api(second)
        carol = new_user(one, admin, "carol")
        assert search_statuses(two, carol) == {200}
        dave = new_user(two, admin, "dave")
        assert search_statuses(one, dave) == {200}

        # The sign-up form from one server is accepted by the other: every worker of every
        # replica has the same Flask secret key (the auth Secret's flask-secret-key).
        browser = requests.Session()
        form = one.request("GET", "/signup", admin, session=browser)
        assert form.status_code == 200, form.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, form.text
        erin = (f"erin-{uuid.uuid4().hex[:8]}", secrets.token_hex(16))
        fields = {"csrf_token": token.group(1), "username": erin[0], "password": erin[1]}
        create_ui = f"{API}/users/create-ui"
        # Without the session the token belongs to, the form is refused (the check is real).
        forged = two.request("POST", create_ui, admin, data=fields)
        assert forged.status_code == 400, forged.text
        signed_up = two.request("POST", create_ui, admin, session=browser, data=fields)
        assert signed_up.status_code == 200, signed_up.text
        assert "Successfully signed up" in signed_up.text
        assert search_statuses(one, erin) == {200}

    # Each server ran the rendered number of workers (the dev stack's: 2).
    argv, _ = workload.command("mlflow")
    workers = int(argv[argv.index("--workers") + 1])
    log = (directory / "server.log").read_text()
    assert len(set(re.findall(r"Started server process \[(\d+)\]", log))) == workers >= 2, log


def test_a_rotated_admin_password_replaces_the_old_one(
    first: Serving,
    admin: Auth,
    workload: RenderedWorkload,
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path: Path,
) -> None:
    # A rotation (auth.admin_password_rotation) makes a new auth Secret, so a new pod template:
    # the new pod's `auth-admin` init container applies the new password from it.
    ref = secret_ref(workload, "auth-admin", "MLFLOW_AUTH_ADMIN_PASSWORD")
    rotated = copy.deepcopy(workload)
    new_password = secrets.token_hex(16)
    rotated.secrets[ref["name"]][ref["key"]] = new_password
    assert search_statuses(Api(first), admin) == {200}

    with serving(rotated, postgres, gcs, pod_dir(tmp_path, "rotated-pod"), fresh=False) as new_pod:
        assert new_pod.admin == ("admin", new_password)
        # The old password is refused by the new pod, and by the old one still running (the user
        # store is shared) once its workers' credential cache has let the old login expire; the
        # new one is accepted by both.
        assert search_statuses(Api(new_pod), admin) == {401}
        deadline = time.monotonic() + credential_cache_seconds(workload) + 5
        while search_statuses(Api(first), admin) != {401}:
            assert time.monotonic() < deadline, "the old pod still takes the old password"
            time.sleep(1)
        for api in (Api(new_pod), Api(first)):
            assert search_statuses(api, new_pod.admin) == {200}


def credential_cache_seconds(workload: RenderedWorkload) -> int:
    """The window the rendered basic-auth ini gives MLflow's credential cache."""
    volume = workload.volume("auth-config")
    assert volume is not None
    ini = configparser.ConfigParser()
    ini.read_string(workload.secrets[volume["secret"]["secretName"]]["basic_auth.ini"])
    return ini.getint("mlflow", "auth_cache_ttl_seconds")


def users(pg: services.Postgres, database: Any) -> set[tuple[str, bool]]:
    import psycopg2

    conn = psycopg2.connect(pg.dsn(database.path.lstrip("/"), database.username, database.password))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT username, is_admin FROM users")
            return {(name, bool(is_admin)) for name, is_admin in cur.fetchall()}
    finally:
        conn.close()
