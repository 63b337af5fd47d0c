"""Prometheus metrics on every stack, and the scrape objects each stack gets (mocks).

The server writes the exporter's files into an emptyDir, a sidecar serves them on the `metrics`
port; GKE stacks get PodMonitoring objects, `metrics.service_monitor` adds ServiceMonitors; the
NetworkPolicy admits the scrapers to that port only; `mlflow.log_level` reaches MLflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest

from components.config import parse_config
from components.config.uploads import UploadScratch
from components.workload import metrics
from components.workload.mlflow.server_args import PORT, UID
from infra.config import project_config
from tests.harness import MOCK_KUBECONFIG, STACKS, Capture, run_stack, stack_config, with_overrides
from tests.manifests import crds
from tests.manifests.render import kubernetes_objects

POD_MONITORING = "kubernetes:monitoring.googleapis.com/v1:PodMonitoring"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
GKE_STACKS = ("staging", "prod")


def _pod(capture: Capture) -> dict[str, Any]:
    deployment = capture.one("kubernetes:apps/v1:Deployment", "mlflow")
    return cast(dict[str, Any], deployment.inputs["spec"]["template"]["spec"])


def _container(capture: Capture, name: str) -> dict[str, Any]:
    return next(c for c in _pod(capture)["containers"] if c["name"] == name)


def _with(stack: str, **overrides: object) -> Capture:
    return run_stack(stack, with_overrides(stack_config(stack), **overrides))


def _release_metrics(capture: Capture) -> dict[str, Any]:
    release = capture.one("kubernetes:helm.sh/v3:Release", "mlflow-ingress")
    return dict(release.inputs["values"]["controller"]["metrics"])


@pytest.mark.parametrize("stack", STACKS)
def test_every_server_writes_the_exporter_files_the_sidecar_serves(
    stacks: dict[str, Capture], stack: str
) -> None:
    pod = _pod(stacks[stack])
    server, sidecar = _container(stacks[stack], "mlflow"), _container(stacks[stack], "metrics")
    args = server["args"]
    assert args[args.index("--expose-prometheus") + 1] == metrics.METRICS_DIR
    volume = next(v for v in pod["volumes"] if v["name"] == metrics.METRICS_VOLUME)
    assert volume["emptyDir"] == {"sizeLimit": metrics.METRICS_DIR_SIZE}
    writes = next(m for m in server["volumeMounts"] if m["name"] == metrics.METRICS_VOLUME)
    reads = next(m for m in sidecar["volumeMounts"] if m["name"] == metrics.METRICS_VOLUME)
    assert writes["mountPath"] == reads["mountPath"] == metrics.METRICS_DIR
    assert not writes.get("readOnly") and reads["readOnly"] is True
    env = {e["name"]: e["value"] for e in sidecar["env"]}
    assert env == {"PROMETHEUS_MULTIPROC_DIR": metrics.METRICS_DIR, "METRICS_PORT": "9091"}
    assert sidecar["ports"] == [{"name": "metrics", "containerPort": 9091}]
    assert sidecar["command"] == ["python"] and sidecar["args"][0] == "-c"


@pytest.mark.parametrize("stack", STACKS)
def test_the_sidecar_is_as_locked_down_as_the_server(
    stacks: dict[str, Capture], stack: str
) -> None:
    server, sidecar = _container(stacks[stack], "mlflow"), _container(stacks[stack], "metrics")
    assert sidecar["image"] == server["image"]
    assert sidecar["securityContext"] == server["securityContext"]
    assert sidecar["securityContext"]["readOnlyRootFilesystem"] is True
    assert sidecar["securityContext"]["runAsUser"] == UID
    assert sidecar["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert _pod(stacks[stack])["securityContext"]["runAsNonRoot"] is True
    resources = sidecar["resources"]
    assert (
        set(resources["requests"])
        == set(resources["limits"])
        == {
            "cpu",
            "memory",
            "ephemeral-storage",
        }
    )
    for probe in ("readinessProbe", "livenessProbe"):
        assert sidecar[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    # The sidecar's logins: none. Nothing of the server's environment (Secrets) reaches it.
    assert "envFrom" not in sidecar
    assert all("valueFrom" not in e for e in sidecar["env"])


@pytest.mark.parametrize("stack", STACKS)
def test_the_pod_requests_what_the_upload_rule_counts(
    stacks: dict[str, Capture], stack: str
) -> None:
    """The schema's Autopilot check (UploadScratch.pod) counts the sidecar: the same total as
    the rendered containers ask for."""
    pod = _pod(stacks[stack])
    running = sum(
        _mebibytes(c["resources"]["requests"]["ephemeral-storage"])
        for c in [*pod["containers"], *pod.get("initContainers", [])]
        if c["name"] != "auth-admin" and c["name"] != "db-migrate"
    )
    size = parse_config(project_config(stack_config(stack))).ingress.proxy_body_size
    with_proxy = any(c["name"] == "cloud-sql-proxy" for c in pod.get("initContainers", []))
    assert running * 2**20 == UploadScratch.for_body_size(size).pod(with_proxy)


def _mebibytes(quantity: str) -> int:
    assert quantity.endswith("Mi"), quantity
    return int(quantity[:-2])


@pytest.mark.parametrize("stack", STACKS)
def test_pod_monitoring_on_gke_stacks_and_no_service_monitor_by_default(
    stacks: dict[str, Capture], stack: str
) -> None:
    capture = stacks[stack]
    monitors = {r.name: r.inputs for r in capture.of_type(POD_MONITORING)}
    assert not capture.of_type(SERVICE_MONITOR)
    if stack not in GKE_STACKS:
        assert monitors == {}
        return
    assert set(monitors) == {"mlflow", "mlflow-ingress"}
    server = monitors["mlflow"]
    assert server["metadata"]["namespace"] == "mlflow"
    assert server["spec"]["selector"]["matchLabels"] == _pod_labels(capture)
    assert server["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s"}
    ]
    controller = monitors["mlflow-ingress"]
    assert controller["metadata"]["namespace"] == "ingress-nginx"
    assert controller["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "ingress-nginx",
        "app.kubernetes.io/instance": "mlflow-ingress",
        "app.kubernetes.io/component": "controller",
    }
    assert controller["spec"]["endpoints"][0]["port"] == "metrics"
    # The chart's own metrics endpoint is on; its ServiceMonitor is not.
    assert _release_metrics(capture) == {"enabled": True, "serviceMonitor": {"enabled": False}}


def _pod_labels(capture: Capture) -> dict[str, str]:
    deployment = capture.one("kubernetes:apps/v1:Deployment", "mlflow").inputs
    return dict(deployment["spec"]["template"]["metadata"]["labels"])


def _scrape_policy(capture: Capture) -> dict[str, Any]:
    return dict(capture.one(NETWORK_POLICY, "mlflow-metrics").inputs["spec"])


def _admitted(policy: dict[str, Any]) -> tuple[set[str], list[int]]:
    rule = policy["ingress"]
    assert len(rule) == 1
    namespaces = {
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for p in rule[0]["from"]
    }
    return namespaces, [int(p["port"]) for p in rule[0]["ports"]]


@pytest.mark.parametrize("stack", STACKS)
def test_the_network_policy_admits_scrapers_to_the_metrics_port_only(
    stacks: dict[str, Capture], stack: str
) -> None:
    capture = stacks[stack]
    policy = _scrape_policy(capture)
    assert policy["podSelector"]["matchLabels"] == _pod_labels(capture)
    namespaces, ports = _admitted(policy)
    expected = {"gmp-system", "monitoring"} if stack in GKE_STACKS else {"monitoring"}
    assert namespaces == expected and ports == [9091]
    # The server's own policy still admits the ingress controller to the API port alone.
    server = capture.one(NETWORK_POLICY, "mlflow").inputs["spec"]["ingress"]
    assert [int(p["port"]) for rule in server for p in rule["ports"]] == [PORT]


def test_service_monitors_for_server_and_controller_with_the_operator() -> None:
    capture = _with(
        "local",
        metrics__service_monitor=True,
        metrics__service_monitor_labels={"release": "kube-prometheus-stack"},
        metrics__prometheus_namespace="observability",
        metrics__scrape_interval_seconds=15,
    )
    monitor = capture.one(SERVICE_MONITOR, "mlflow").inputs
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["selector"]["matchLabels"] == _pod_labels(capture)
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["mlflow"]}
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "15s"}
    ]
    service = capture.one("kubernetes:core/v1:Service", "mlflow").inputs["spec"]
    ports = {p["name"]: (int(p["port"]), p["targetPort"]) for p in service["ports"]}
    assert ports == {"http": (80, "http"), "metrics": (9091, "metrics")}
    assert _release_metrics(capture)["serviceMonitor"] == {
        "enabled": True,
        "scrapeInterval": "15s",
        "additionalLabels": {"release": "kube-prometheus-stack"},
    }
    assert _admitted(_scrape_policy(capture)) == ({"observability"}, [9091])
    assert not capture.of_type(POD_MONITORING)


def test_without_the_operator_the_service_has_no_metrics_port(stacks: dict[str, Capture]) -> None:
    service = stacks["local"].one("kubernetes:core/v1:Service", "mlflow").inputs["spec"]
    assert [p["name"] for p in service["ports"]] == ["http"]


def test_pod_monitoring_can_be_turned_off_on_gke_and_on_for_an_existing_cluster(
    tmp_path: Path,
) -> None:
    off = _with("staging", metrics__pod_monitoring=False)
    assert not off.of_type(POD_MONITORING)
    assert _admitted(_scrape_policy(off))[0] == {"monitoring"}
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(MOCK_KUBECONFIG)
    existing = _with(
        "dev",
        cluster={"kind": "existing", "context": "gke_p_r_c", "kubeconfig": str(kubeconfig)},
        metrics__pod_monitoring=True,
    )
    assert {r.name for r in existing.of_type(POD_MONITORING)} == {"mlflow", "mlflow-ingress"}


def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    schemas = crds.load_schemas() if crds.CRD_DIR.exists() else {}
    for kind in (
        ("monitoring.googleapis.com/v1", "PodMonitoring"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ):
        if kind not in schemas:
            pytest.skip(f"the {kind[1]} CRD is fetched by `make controlplane`")
    return schemas


def test_scrape_objects_match_their_crds_strictly(stacks: dict[str, Capture]) -> None:
    schemas = _crd_schemas()
    with_operator = _with("prod", metrics__service_monitor=True)
    scrape = [
        o
        for o in kubernetes_objects(with_operator)
        if o["kind"] in ("PodMonitoring", "ServiceMonitor")
    ]
    assert sorted(o["kind"] for o in scrape) == ["PodMonitoring", "PodMonitoring", "ServiceMonitor"]
    for obj in scrape:
        crds.validate(obj, schemas)
    broken = {**scrape[0], "spec": {**scrape[0]["spec"], "endpoint": []}}
    with pytest.raises(jsonschema.ValidationError):
        crds.validate(broken, schemas)


@pytest.mark.parametrize("stack", STACKS)
def test_mlflow_logs_at_info_by_default(stacks: dict[str, Capture], stack: str) -> None:
    settings = stacks[stack].one("kubernetes:core/v1:ConfigMap", "mlflow").inputs["data"]
    assert settings["MLFLOW_LOGGING_LEVEL"] == "INFO"


def test_the_log_level_is_a_setting() -> None:
    capture = _with("prod", mlflow__log_level="debug")
    settings = capture.one("kubernetes:core/v1:ConfigMap", "mlflow").inputs["data"]
    assert settings["MLFLOW_LOGGING_LEVEL"] == "DEBUG"
    config_map = _container(capture, "mlflow")["envFrom"][0]["configMapRef"]["name"]
    assert config_map.startswith("mlflow-")


def test_f5_controller_pods_get_their_own_pod_monitoring() -> None:
    capture = _with("prod", ingress__controller="f5-nginx")
    controller = capture.one(POD_MONITORING, "mlflow-ingress").inputs
    assert controller["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "nginx-ingress",
        "app.kubernetes.io/instance": "mlflow-ingress-f5",
    }
    assert controller["spec"]["endpoints"][0]["port"] == "prometheus"
