"""The local stack's shape on a real node: `pulumi up` waits for pods that really run.

tests/engine/node.py joins a real kubelet (containerd, runc, a CNI bridge), kube-proxy and CoreDNS
to the control plane; the images come from `make node` through a registry on loopback. The stack
is the local one with the `existing` cluster kind pointed at that node, the in-cluster database,
a volume for artifacts, the login on, and cert-manager for real: the upstream chart
(../shared/charts/cert-manager) through the platform's own component, its self-signed root, CA
and CA ClusterIssuer, which issue MLflow's certificate. Stand-ins, each for something that cannot
run here:
- the ingress controller: its image cannot be built here, so the chart installs only the
  IngressClass (tests/engine/charts/ingress-class), and the test reaches MLflow's pods through a
  NodePort Service of its own instead of the controller's NodePort;
- the images: our own builds of MLflow 3.17.2 and PostgreSQL (tools/node/images), not the
  official ones; cert-manager's are upstream's packages at v1.21.2 behind entrypoints of our own
  (tools/node/images/cert-manager), pulled under the names the chart asks for;
- the storage provisioner: a thread that does what minikube's does (addons.volume_provisioner).
ACME (Let's Encrypt) is not exercised: it needs Let's Encrypt's servers and a public name.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests
import yaml
from mlflow.tracking import MlflowClient
from pulumi import automation as auto

from components.config import TlsConfig, default_of
from tests.engine import addons, controlplane, issuance, node, watchdog
from tests.engine.node_config import NODE_IP
from tests.engine.platform_checks import (
    MLFLOW_DEPLOYMENT,
    POSTGRES_STATEFULSET,
    existing_cluster_stack,
    plaintext_paths,
    postgres_password,
)
from tests.engine.toolchain import (
    copy_project,
    exported_state,
    managed_types,
    require_engine,
    workspace_options,
)

pytestmark = pytest.mark.engine

MLFLOW_NAMESPACE = "mlflow"
NODE_PORT_SERVICE = f"/api/v1/namespaces/{MLFLOW_NAMESPACE}/services/mlflow-node-port"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[node.RealNode]:
    require_engine()
    lacking = node.missing() + [b for b in controlplane.missing_binaries() if b != "kwok"]
    if lacking:
        pytest.skip(f"not built: {', '.join(lacking)}; run `make controlplane node`")
    if not issuance.CERT_MANAGER_CHART.is_dir():
        pytest.skip(f"the upstream cert-manager chart is not at {issuance.CERT_MANAGER_CHART}")
    root = tmp_path_factory.mktemp("real-node")
    with (
        node.real_node(root / "node") as running,
        addons.volume_provisioner(running.plane, root / "volumes"),
        addons.ingress_addresses(running.plane),
    ):
        yield running


def _stack_file(real: node.RealNode) -> dict[str, Any]:
    stack = existing_cluster_stack(real.plane)
    config = stack["config"]
    config["mlflow-platform:mlflow"].update(
        image=real.image("mlflow.tar"),
        # The test's client calls the node's address; MLflow refuses Host headers it does not know.
        allowed_hosts=[NODE_IP],
    )
    config["mlflow-platform:database"]["image"] = real.image("postgres.tar")
    # One node, hostPath volumes: a shared volume is honest here, and it lets MLflow run the two
    # replicas (and rolling updates) the disruption check needs.
    config["mlflow-platform:artifacts"]["access_mode"] = "ReadWriteMany"
    config["mlflow-platform:tls"] = {
        "issuer": "self-signed",
        "hsts": False,
        "chart": {"path": str(issuance.CERT_MANAGER_CHART)},
    }
    return stack


def _pods(
    plane: controlplane.ControlPlane, namespace: str, stopping_too: bool = False
) -> list[dict[str, Any]]:
    """The pods of the namespace's long-running workload (not of Jobs), without those already
    stopping unless asked."""
    workload = MLFLOW_DEPLOYMENT if namespace == MLFLOW_NAMESPACE else POSTGRES_STATEFULSET
    labels = plane.api("GET", workload)["spec"]["selector"]["matchLabels"]
    selector = ",".join(f"{key}={value}" for key, value in labels.items())
    path = f"/api/v1/namespaces/{namespace}/pods?labelSelector={selector}"
    pods: list[dict[str, Any]] = plane.api("GET", path)["items"]
    return [p for p in pods if stopping_too or not p["metadata"].get("deletionTimestamp")]


def _node_port_to_mlflow(plane: controlplane.ControlPlane) -> str:
    """A NodePort Service in front of MLflow's pods (the ingress controller's stand-in)."""
    selector = plane.api("GET", MLFLOW_DEPLOYMENT)["spec"]["selector"]["matchLabels"]
    service = plane.api(
        "POST",
        f"/api/v1/namespaces/{MLFLOW_NAMESPACE}/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "mlflow-node-port"},
            "spec": {
                "type": "NodePort",
                "selector": selector,
                "ports": [{"name": "http", "port": 5000, "targetPort": 5000}],
            },
        },
    )
    return f"http://{NODE_IP}:{service['spec']['ports'][0]['nodePort']}"


def _wait_serving(url: str, auth: tuple[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise TimeoutError(f"MLflow did not answer on {url}")


def _log_and_read_back(
    url: str, monkeypatch: pytest.MonkeyPatch, auth: tuple[str, str], tag: str, tmp: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", auth[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", auth[1])
    client = MlflowClient(tracking_uri=url)
    experiment = client.create_experiment(f"real-node-{tag}")
    run = client.create_run(experiment)
    client.log_param(run.info.run_id, "learning_rate", "0.01")
    for step, value in enumerate((0.9, 0.5, 0.2)):
        client.log_metric(run.info.run_id, "loss", value, step=step)
    artifact = tmp / f"model-{tag}.txt"
    artifact.write_text(f"weights {tag}\n")
    client.log_artifact(run.info.run_id, str(artifact))
    client.set_terminated(run.info.run_id)

    read = client.get_run(run.info.run_id)
    assert read.data.params == {"learning_rate": "0.01"}
    assert [m.value for m in client.get_metric_history(run.info.run_id, "loss")] == [0.9, 0.5, 0.2]
    downloaded = client.download_artifacts(run.info.run_id, artifact.name, str(tmp))
    assert Path(downloaded).read_text() == f"weights {tag}\n"
    # The login is on: no credentials, no answer.
    anonymous = requests.get(
        f"{url}/api/2.0/mlflow/experiments/get", params={"experiment_id": experiment}, timeout=10
    )
    assert anonymous.status_code == 401


def _pod_uids(plane: controlplane.ControlPlane, namespace: str) -> set[str]:
    return {p["metadata"]["uid"] for p in _pods(plane, namespace)}


def _postgres_login(plane: controlplane.ControlPlane, password: str) -> None:
    """Log in to the real PostgreSQL at its pod's address, as MLflow does."""
    env = plane.api("GET", POSTGRES_STATEFULSET)["spec"]["template"]["spec"]["containers"][0]["env"]
    plain = {e["name"]: e.get("value") for e in env}
    pod = next(p for p in _pods(plane, "mlflow-db") if p["status"].get("podIP"))
    psycopg2.connect(
        host=pod["status"]["podIP"],
        port=5432,
        user=plain["POSTGRES_USER"],
        dbname=plain["POSTGRES_DB"],
        password=password,
        connect_timeout=10,
    ).close()


def _rotate_database_password(stack: auto.Stack, real: node.RealNode) -> str:
    """database.password_rotation: both workloads roll onto the new password; the old one is
    refused by PostgreSQL itself. Returns the new password."""
    plane = real.plane
    old = postgres_password(plane)
    before = {ns: _pod_uids(plane, ns) for ns in (MLFLOW_NAMESPACE, "mlflow-db")}
    stack.set_config("mlflow-platform:database.password_rotation", auto.ConfigValue("2"), path=True)
    _up(real, stack, "the rotating up")
    new = postgres_password(plane)
    assert new != old
    deadline = time.monotonic() + 60
    for namespace, uids in before.items():
        # `up` returns once the new pods are ready; the old ones may still be on their way out.
        while uids & _pod_uids(plane, namespace):
            assert time.monotonic() < deadline, f"{namespace}: pods did not roll"
            time.sleep(1)
    _postgres_login(plane, new)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _postgres_login(plane, old)
    return new


def _wait_settled(plane: controlplane.ControlPlane, count: int, timeout: float = 120) -> None:
    """`count` Ready pods of the current template and no older pod still stopping: the rollout
    that a new replica count starts (the zone spread joins the template) is over."""
    deadline = time.monotonic() + timeout
    while True:
        deployment = plane.api("GET", MLFLOW_DEPLOYMENT)
        status = deployment["status"]
        counts = {status.get(key) for key in ("replicas", "updatedReplicas", "readyReplicas")}
        seen = status.get("observedGeneration") == deployment["metadata"]["generation"]
        pods = _pods(plane, MLFLOW_NAMESPACE, stopping_too=True)
        if seen and counts == {count} and len(pods) == count:
            return
        assert time.monotonic() < deadline, f"MLflow did not settle at {count} replicas: {status}"
        time.sleep(2)


def _evict_one_during_requests(
    plane: controlplane.ControlPlane, url: str, auth: tuple[str, str], total: int = 200
) -> list[str]:
    """`total` requests, each on a new connection; one of the two pods is evicted (through the
    PodDisruptionBudget) a quarter of the way in. Returns the failures."""
    failures: list[str] = []
    quarter = threading.Event()
    start = time.monotonic()

    def client() -> None:
        for index in range(total):
            if index == total // 4:
                quarter.set()
            try:
                response = requests.get(
                    f"{url}/api/2.0/mlflow/experiments/search",
                    params={"max_results": 5},
                    auth=auth,
                    headers={"Connection": "close"},
                    timeout=30,
                )
                problem = "" if response.status_code == 200 else f"HTTP {response.status_code}"
            except requests.RequestException as error:
                problem = str(error)
            if problem:
                failures.append(f"{index} at {time.monotonic() - start:.1f} s: {problem}")

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        done = pool.submit(client)
        quarter.wait(120)
        victim = _pods(plane, MLFLOW_NAMESPACE)[0]["metadata"]["name"]
        plane.api(
            "POST",
            f"/api/v1/namespaces/{MLFLOW_NAMESPACE}/pods/{victim}/eviction",
            {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": victim}},
        )
        print(f"  {victim} evicted at {time.monotonic() - start:.1f} s")
        done.result()
    return failures


def _certificate_issued_and_reissued(
    plane: controlplane.ControlPlane, stack: auto.Stack, host: str
) -> None:
    """MLflow's TLS Secret holds a certificate for its host signed by the CA the stack outputs;
    deleted, it is issued again (a new serial number), as valid as the first."""
    ca = issuance.ca_certificate(plane, str(stack.outputs()["ca_certificate_secret"].value))
    secret = f"{MLFLOW_NAMESPACE}/{default_of(TlsConfig, 'secret_name')}"
    first = issuance.wait_issued(plane, secret)
    issuance.assert_issued_for(first, ca, host)
    print(f"  {host}'s certificate issued {first.seconds:.0f} s after up")
    issuance.delete_secret(plane, secret)
    again = issuance.wait_issued(plane, secret, other_than=first.leaf.serial_number)
    issuance.assert_issued_for(again, ca, host)
    print(f"  re-issued {again.seconds:.0f} s after its Secret was deleted")


def _assert_nothing_left(plane: controlplane.ControlPlane, stack: auto.Stack) -> None:
    for namespace in (MLFLOW_NAMESPACE, "mlflow-db", "ingress-nginx", "cert-manager"):
        addons.wait_gone(plane, f"/api/v1/namespaces/{namespace}")
    for kind in ("validatingwebhookconfigurations", "mutatingwebhookconfigurations"):
        assert plane.api("GET", f"/apis/admissionregistration.k8s.io/v1/{kind}")["items"] == []
    crds = plane.api("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")["items"]
    assert [c["metadata"]["name"] for c in crds if "cert-manager.io" in c["metadata"]["name"]] == []
    assert plane.api("GET", "/api/v1/pods")["items"] == []
    assert plane.api("GET", "/api/v1/persistentvolumeclaims")["items"] == []
    deadline = time.monotonic() + 60
    while plane.api("GET", "/api/v1/persistentvolumes")["items"]:
        assert time.monotonic() < deadline, "volumes left after their claims"
        time.sleep(1)
    assert managed_types(stack) == []


# What each engine operation may take here before the watchdog reports the cluster and interrupts
# it: the whole test, every operation included, took 177-186 s in CI runs; a missed deadline
# still fails well inside pytest's 600 s for the whole test.
FIRST_UP_SECONDS = 300
UPDATE_SECONDS = 180


def _up(real: node.RealNode, stack: auto.Stack, what: str, seconds: float = UPDATE_SECONDS) -> None:
    with watchdog.deadline(seconds, what, real.plane, real.logs) as progress:
        result = stack.up(on_output=progress)
    assert result.summary.result == "succeeded"


class Timings:
    """How long each step took, printed with the test's output (`pytest -s`)."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def lap(self, step: str) -> None:
        now = time.monotonic()
        print(f"  {step}: {now - self.last:.0f} s", flush=True)
        self.last = now


def test_local_stack_on_a_real_node(
    real: node.RealNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plane, timings = real.plane, Timings()
    project = copy_project(tmp_path / "project")
    stack_file = _stack_file(real)
    (project / "stacks" / "Pulumi.node.yaml").write_text(yaml.safe_dump(stack_file))
    stack = auto.create_stack("node", work_dir=str(project), opts=workspace_options(tmp_path))

    print("\nthe local stack's shape on a real node:")
    _up(real, stack, "the first up", FIRST_UP_SECONDS)
    for namespace in (MLFLOW_NAMESPACE, "mlflow-db"):
        statuses = [c for p in _pods(plane, namespace) for c in p["status"]["containerStatuses"]]
        assert statuses and all(c["ready"] and c["started"] for c in statuses), statuses
    timings.lap("up (pods pulled, started, probed Ready)")
    host = stack_file["config"]["mlflow-platform:mlflow"]["host"]
    _certificate_issued_and_reissued(plane, stack, host)
    timings.lap("MLflow's certificate issued, deleted, re-issued")

    outputs = stack.outputs()
    auth = (str(outputs["admin_username"].value), str(outputs["admin_password"].value))
    url = _node_port_to_mlflow(plane)
    _wait_serving(url, auth)
    _log_and_read_back(url, monkeypatch, auth, "first", tmp_path)
    timings.lap("a run logged and read back through the NodePort")

    assert set(stack.preview().change_summary) == {"same"}
    timings.lap("no-op preview")

    password = _rotate_database_password(stack, real)
    _log_and_read_back(url, monkeypatch, auth, "after-rotation", tmp_path)
    timings.lap("database password rotated, both workloads rolled")

    stack.set_config("mlflow-platform:mlflow.replicas", auto.ConfigValue("2"), path=True)
    _up(real, stack, "the up to two replicas")
    # With more than one replica the HorizontalPodAutoscaler owns the count (Pulumi ignores
    # spec.replicas then): its controller raises the Deployment to minReplicas.
    _wait_settled(plane, 2)
    timings.lap("two replicas")
    failures = _evict_one_during_requests(plane, url, auth)
    print(f"  requests lost while a pod was evicted: {len(failures)} of 200")
    assert failures == []
    timings.lap("200 requests, one pod evicted")

    state = exported_state(stack)
    for secret in (password, auth[1]):
        assert not plaintext_paths(state, secret), "a secret is in the state in plaintext"

    with watchdog.deadline(UPDATE_SECONDS, "destroy", plane, real.logs) as progress:
        stack.destroy(on_output=progress)
    _assert_nothing_left(plane, stack)
    timings.lap("destroy, nothing left")
