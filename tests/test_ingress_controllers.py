"""Both ingress controllers (ingress.controller) get every setting the schema owns, each under
its own chart's keys and in its own annotation family: first the builders called directly,
then whole stacks under mocks, as `pulumi up` would register them."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config import ConfigError, parse_config
from components.config.controllers import OWNED_HELM_VALUES, ControllerKind
from components.shared import versions
from components.stores.database import DatabaseEndpoint
from components.workload.ingress.controller import IngressController, controller_values
from components.workload.ingress.controller import chart_source as release_chart
from components.workload.ingress.controller_args import IngressControllerArgs
from components.workload.ingress.f5 import pod_labels as f5_pod_labels
from components.workload.ingress.f5 import prometheus_values
from components.workload.ingress.nginx import ExternalAuth
from components.workload.mlflow.pod import ingress_annotations
from components.workload.mlflow.server_args import MlflowServerArgs
from infra.config import project_config
from tests import harness
from tests.harness import Capture, run_stack, run_under_mocks, stack_config, with_overrides

CONTROLLERS: tuple[ControllerKind, ...] = ("ingress-nginx", "f5-nginx")
RELEASE = "kubernetes:helm.sh/v3:Release"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
NGINX = "nginx.ingress.kubernetes.io"

Path = tuple[str, ...]
# setting -> (arguments beyond NodePort defaults, {controller: (where in the values, value)})
SETTINGS: dict[str, tuple[dict[str, Any], dict[str, tuple[Path, Any]]]] = {
    "replicas": (
        {"replicas": 3},
        {
            "ingress-nginx": (("controller", "replicaCount"), 3),
            "f5-nginx": (("controller", "replicaCount"), 3),
        },
    ),
    "service type": (
        {"service_type": "LoadBalancer"},
        {
            "ingress-nginx": (("controller", "service", "type"), "LoadBalancer"),
            "f5-nginx": (("controller", "service", "type"), "LoadBalancer"),
        },
    ),
    "http node port": (
        {"http_node_port": 30081},
        {
            "ingress-nginx": (("controller", "service", "nodePorts", "http"), 30081),
            "f5-nginx": (("controller", "service", "httpPort", "nodePort"), 30081),
        },
    ),
    "https node port": (
        {"https_node_port": 30444},
        {
            "ingress-nginx": (("controller", "service", "nodePorts", "https"), 30444),
            "f5-nginx": (("controller", "service", "httpsPort", "nodePort"), 30444),
        },
    ),
    "reserved address": (
        {"service_type": "LoadBalancer", "load_balancer_ip": "34.0.0.10"},
        {
            "ingress-nginx": (("controller", "service", "loadBalancerIP"), "34.0.0.10"),
            "f5-nginx": (("controller", "service", "loadBalancerIP"), "34.0.0.10"),
        },
    ),
    "allowlist": (
        {"service_type": "LoadBalancer", "allowed_source_ranges": ["203.0.113.0/24"]},
        {
            "ingress-nginx": (
                ("controller", "service", "loadBalancerSourceRanges"),
                ["203.0.113.0/24"],
            ),
            "f5-nginx": (
                ("controller", "service", "loadBalancerSourceRanges"),
                ["203.0.113.0/24"],
            ),
        },
    ),
    "body size": (
        {"proxy_body_size": "7g"},
        {
            "ingress-nginx": (("controller", "config", "proxy-body-size"), "7g"),
            "f5-nginx": (("controller", "config", "entries", "client-max-body-size"), "7g"),
        },
    ),
    "read timeout": (
        {},
        {
            "ingress-nginx": (("controller", "config", "proxy-read-timeout"), "600"),
            "f5-nginx": (("controller", "config", "entries", "proxy-read-timeout"), "600s"),
        },
    ),
    "send timeout": (
        {},
        {
            "ingress-nginx": (("controller", "config", "proxy-send-timeout"), "600"),
            "f5-nginx": (("controller", "config", "entries", "proxy-send-timeout"), "600s"),
        },
    ),
    "hsts": (
        {"hsts": True},
        {
            "ingress-nginx": (("controller", "config", "hsts"), "true"),
            "f5-nginx": (("controller", "config", "entries", "hsts"), "true"),
        },
    ),
    "class name": (
        {},
        {
            "ingress-nginx": (("controller", "ingressClassResource", "name"), "nginx"),
            "f5-nginx": (("controller", "ingressClass", "name"), "nginx"),
        },
    ),
    "class is not the cluster default": (
        {},
        {
            "ingress-nginx": (("controller", "ingressClassResource", "default"), False),
            "f5-nginx": (("controller", "ingressClass", "setAsDefaultIngress"), False),
        },
    ),
    "disruption budget": (
        {"replicas": 2},
        {
            "ingress-nginx": (("controller", "minAvailable"), 1),
            "f5-nginx": (
                ("controller", "podDisruptionBudget"),
                {"enabled": True, "minAvailable": 1},
            ),
        },
    ),
    "resources": (
        {},
        {
            "ingress-nginx": (("controller", "resources", "limits"), {"memory": "512Mi"}),
            "f5-nginx": (("controller", "resources", "limits"), {"memory": "512Mi"}),
        },
    ),
    "prometheus metrics": (
        {},
        {
            "ingress-nginx": (("controller", "metrics", "enabled"), True),
            "f5-nginx": (("prometheus", "create"), True),
        },
    ),
}


def _at(values: dict[str, Any], path: Path) -> Any:
    node: Any = values
    for part in path:
        assert isinstance(node, dict) and part in node, f"{'.'.join(path)} missing at {part}"
        node = node[part]
    return node


def _args(controller: ControllerKind, **overrides: Any) -> IngressControllerArgs:
    return IngressControllerArgs(**{"service_type": "NodePort", **overrides}, controller=controller)


@pytest.mark.parametrize("controller", CONTROLLERS)
@pytest.mark.parametrize("setting", SETTINGS)
def test_each_setting_lands_at_the_charts_own_key(setting: str, controller: ControllerKind) -> None:
    overrides, where = SETTINGS[setting]
    path, expected = where[controller]
    assert _at(controller_values(_args(controller, **overrides)), path) == expected


def test_f5_keeps_no_disruption_budget_for_a_single_replica() -> None:
    # A budget of one available pod out of one would block every node drain.
    values = controller_values(_args("f5-nginx", replicas=1))
    assert values["controller"]["podDisruptionBudget"]["enabled"] is False


def test_f5_pins_its_image_and_reports_nothing_to_f5() -> None:
    controller = controller_values(_args("f5-nginx"))["controller"]
    assert controller["image"] == {"repository": "nginx/nginx-ingress", "tag": "5.6.1"}
    assert controller["telemetryReporting"] == {"enable": False}


# Owned because a ConfigMap of the user's own would replace ours; the builder never writes it.
GUARDS_ONLY = {("controller", "customConfigMap"), ("controller", "watchNamespaceLabel")}


@pytest.mark.parametrize("controller", CONTROLLERS)
def test_every_owned_key_is_one_the_builder_writes(controller: ControllerKind) -> None:
    """The table `ingress.values` is checked against names real keys of this controller's chart:
    each is set by the builder on a NodePort or a LoadBalancer stack."""
    written = [
        controller_values(_args(controller, replicas=2)),
        controller_values(
            _args(
                controller,
                service_type="LoadBalancer",
                load_balancer_ip="34.0.0.10",
                allowed_source_ranges=["203.0.113.0/24"],
            )
        ),
    ]
    owned = set(OWNED_HELM_VALUES[controller]) - GUARDS_ONLY
    assert len(owned) >= 9
    for path in owned:
        assert any(_present(values, path) for values in written), ".".join(path)


def _present(values: dict[str, Any], path: Path) -> bool:
    try:
        _at(values, path)
    except AssertionError:
        return False
    return True


def test_user_values_merge_beside_the_f5_entries_we_own() -> None:
    extra = {"controller": {"config": {"entries": {"worker-processes": "2"}}}}
    entries = controller_values(_args("f5-nginx", values=extra))["controller"]["config"]["entries"]
    assert entries["worker-processes"] == "2"
    assert entries["client-max-body-size"] == "5g" and entries["hsts"] == "false"


@pytest.mark.parametrize(
    ("controller", "expected"),
    [
        (
            "ingress-nginx",
            {"chart": "ingress-nginx", "version": "4.15.1"},
        ),
        # An OCI chart is named by its URL, without repository options.
        (
            "f5-nginx",
            {"chart": "oci://ghcr.io/nginx/charts/nginx-ingress", "version": "2.7.1"},
        ),
    ],
)
def test_the_chart_defaults_to_the_controllers_pin(
    controller: ControllerKind, expected: dict[str, str]
) -> None:
    source = release_chart(_args(controller))
    assert {k: source[k] for k in ("chart", "version")} == expected
    assert ("repository_opts" in source) == (controller == "ingress-nginx")
    mirrored = release_chart(_args(controller, chart_version="9.9.9"))
    assert mirrored["version"] == "9.9.9" and mirrored["chart"] == expected["chart"]
    assert release_chart(_args(controller, chart_path="./chart.tgz")) == {"chart": "./chart.tgz"}


# --- the MLflow Ingress's annotations -----------------------------------------------------

# setting -> {controller: (annotation, value)}
# setting -> {controller: (annotation, value)}
ANNOTATIONS: dict[str, dict[ControllerKind, tuple[str, str]]] = {
    "body size": {
        "ingress-nginx": (f"{NGINX}/proxy-body-size", "7g"),
        "f5-nginx": ("nginx.org/client-max-body-size", "7g"),
    },
    "read timeout": {
        "ingress-nginx": (f"{NGINX}/proxy-read-timeout", "600"),
        "f5-nginx": ("nginx.org/proxy-read-timeout", "600s"),
    },
    "send timeout": {"f5-nginx": ("nginx.org/proxy-send-timeout", "600s")},
    "https redirect": {
        "ingress-nginx": (f"{NGINX}/ssl-redirect", "true"),
        # F5 reads the redirect under the old common prefix.
        "f5-nginx": ("ingress.kubernetes.io/ssl-redirect", "true"),
    },
    "certificate": {
        "ingress-nginx": ("cert-manager.io/cluster-issuer", "letsencrypt"),
        "f5-nginx": ("cert-manager.io/cluster-issuer", "letsencrypt"),
    },
    "one Ingress per host for the ACME solver": {
        "f5-nginx": ("acme.cert-manager.io/http01-edit-in-place", "true"),
    },
}


def _server_args(controller: ControllerKind, **overrides: Any) -> MlflowServerArgs:
    endpoint = DatabaseEndpoint(
        host=pulumi.Output.from_input("10.0.0.3"),
        port=5432,
        database="mlflow",
        user="mlflow",
        password=pulumi.Output.secret("pw"),
        sslmode="require",
    )
    settings: dict[str, Any] = {
        "proxy_body_size": "7g",
        "tls_secret": "mlflow-tls",
        "cluster_issuer": "letsencrypt",
        "redirect_to_https": True,
        **overrides,
    }
    return MlflowServerArgs(
        host="mlflow.example.com",
        backend=endpoint,
        artifacts_destination="gs://b/a",
        ingress_controller=controller,
        **settings,
    )


@pytest.mark.parametrize(
    ("setting", "controller"), [(s, c) for s, where in ANNOTATIONS.items() for c in where]
)
def test_each_setting_is_annotated_in_the_controllers_family(
    setting: str, controller: ControllerKind
) -> None:
    name, value = ANNOTATIONS[setting][controller]
    assert ingress_annotations(_server_args(controller))[name] == value


@pytest.mark.parametrize(
    ("controller", "foreign"), [("ingress-nginx", "nginx.org/"), ("f5-nginx", NGINX)]
)
def test_no_annotation_of_the_other_controller(controller: ControllerKind, foreign: str) -> None:
    annotations = ingress_annotations(_server_args(controller))
    assert annotations and not [name for name in annotations if name.startswith(foreign)]


def test_f5_redirect_off_on_a_node_port_and_nothing_without_tls() -> None:
    no_redirect = ingress_annotations(_server_args("f5-nginx", redirect_to_https=False))
    assert no_redirect["ingress.kubernetes.io/ssl-redirect"] == "false"
    plain = ingress_annotations(_server_args("f5-nginx", tls_secret=None, cluster_issuer=None))
    assert set(plain) == {
        "nginx.org/client-max-body-size",
        "nginx.org/proxy-read-timeout",
        "nginx.org/proxy-send-timeout",
    }


def test_f5_refuses_the_external_sign_in() -> None:
    sign_in = ExternalAuth("http://oauth2-proxy/oauth2/auth", "https://$host/oauth2/start")
    with pytest.raises(ValueError, match="auth-url"):
        ingress_annotations(_server_args("f5-nginx", external_auth=sign_in))


# --- whole stacks under mocks -------------------------------------------------------------


def _release(capture: Capture, name: str = "mlflow-ingress") -> dict[str, Any]:
    return capture.one(RELEASE, name).inputs


def _mlflow_annotations(capture: Capture) -> dict[str, str]:
    ingress = next(
        r
        for r in capture.of_type(INGRESS)
        if r.inputs["metadata"]["labels"]["app.kubernetes.io/name"] == "mlflow"
    )
    return dict(ingress.inputs["metadata"]["annotations"])


def _f5_stack(stack: str) -> Capture:
    return run_stack(stack, with_overrides(stack_config(stack), ingress__controller="f5-nginx"))


def test_shipped_stacks_keep_ingress_nginx(stacks: dict[str, Capture]) -> None:
    for stack in harness.STACKS:
        release = _release(stacks[stack])
        assert (release["name"], release["chart"]) == ("mlflow-ingress", "ingress-nginx"), stack
        assert release["version"] == versions.INGRESS_NGINX_CHART_VERSION
        assert f"{NGINX}/proxy-body-size" in _mlflow_annotations(stacks[stack])


def test_local_stack_on_f5_serves_its_node_ports_without_redirect() -> None:
    capture = _f5_stack("local")
    release = _release(capture)
    assert release["chart"] == "oci://ghcr.io/nginx/charts/nginx-ingress"
    assert release["version"] == "2.7.1" and "repositoryOpts" not in release
    assert release["name"] == "mlflow-ingress-f5"
    service = release["values"]["controller"]["service"]
    assert service == {
        "type": "NodePort",
        "httpPort": {"nodePort": 30080},
        "httpsPort": {"nodePort": 30443},
    }
    annotations = _mlflow_annotations(capture)
    assert annotations["nginx.org/client-max-body-size"] == "5g"
    # https on its own NodePort: a redirect to :443 would lead nowhere.
    assert annotations["ingress.kubernetes.io/ssl-redirect"] == "false"
    assert not [name for name in annotations if name.startswith(NGINX)]


def test_prod_stack_on_f5_keeps_the_reserved_address_hsts_and_two_replicas() -> None:
    capture = _f5_stack("prod")
    values = _release(capture)["values"]
    controller = values["controller"]
    address = capture.one("gcp:compute/address:Address")
    assert controller["service"]["type"] == "LoadBalancer"
    assert controller["service"]["loadBalancerIP"] == "34.0.0.10" and address
    assert controller["config"]["entries"]["hsts"] == "true"
    assert controller["replicaCount"] == 2 and controller["podDisruptionBudget"]["enabled"]
    annotations = _mlflow_annotations(capture)
    assert annotations["ingress.kubernetes.io/ssl-redirect"] == "true"
    assert annotations["acme.cert-manager.io/http01-edit-in-place"] == "true"
    # The namespace (and so the MLflow NetworkPolicy's peer) does not move with the controller.
    namespace = capture.one("kubernetes:core/v1:Namespace", "mlflow-ingress")
    assert namespace.inputs["metadata"]["name"] == "ingress-nginx"


class _ReplacementMonitor(harness.RecordingMonitor):
    """Also keeps the replacement options the engine is handed for each resource."""

    options: dict[tuple[str, str], tuple[bool, list[str]]] = {}  # noqa: RUF012

    def RegisterResource(self, request: Any) -> Any:
        self.options[request.type, request.name] = (
            bool(request.deleteBeforeReplace),
            list(request.replaceOnChanges),
        )
        return super().RegisterResource(request)


@pytest.mark.parametrize("controller", CONTROLLERS)
def test_a_switch_removes_the_old_release_before_installing_the_new(
    controller: ControllerKind, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both charts claim IngressClass nginx, whose controller field is immutable: the release
    name differs per controller, and a changed name replaces the release, deleting it first."""
    monkeypatch.setattr(harness, "RecordingMonitor", _ReplacementMonitor)
    _ReplacementMonitor.options.clear()
    args = _args(controller)
    capture = run_under_mocks(lambda: IngressController("ingress", args))
    suffix = "" if controller == "ingress-nginx" else "-f5"
    assert _release(capture, "ingress")["name"] == "ingress" + suffix
    assert _ReplacementMonitor.options[RELEASE, "ingress"] == (True, ["name"])
    # Only the release: the namespace stays.
    assert _ReplacementMonitor.options["kubernetes:core/v1:Namespace", "ingress"] == (False, [])


# --- Prometheus: the Operator's ServiceMonitor and GMP's PodMonitoring for F5's controller ---


def test_f5_metrics_need_no_operator_by_default() -> None:
    assert prometheus_values(False, {"release": "kps"}, "30s") == {
        "create": True,
        "serviceMonitor": {"create": False},
    }


def test_f5_service_monitor_scrapes_the_charts_metrics_service() -> None:
    prometheus = prometheus_values(True, {"release": "kps"}, "15s")
    # The chart's ServiceMonitor selects its metrics Service, which is off unless asked for.
    assert prometheus["create"] and prometheus["service"] == {"create": True}
    assert prometheus["serviceMonitor"] == {
        "create": True,
        "labels": {"release": "kps"},
        "endpoints": [{"port": "prometheus", "interval": "15s"}],
    }


def test_f5_pod_labels_are_the_charts_selector_labels() -> None:
    assert f5_pod_labels("mlflow-ingress-f5") == {
        "app.kubernetes.io/name": "nginx-ingress",
        "app.kubernetes.io/instance": "mlflow-ingress-f5",
    }


def test_metrics_service_monitor_lands_in_the_f5_chart_under_mocks() -> None:
    config = with_overrides(
        stack_config("prod"),
        ingress__controller="f5-nginx",
        metrics__service_monitor=True,
        metrics__service_monitor_labels={"release": "kps"},
    )
    prometheus = _release(run_stack("prod", config))["values"]["prometheus"]
    assert prometheus["serviceMonitor"]["create"] and prometheus["service"]["create"]
    assert prometheus["serviceMonitor"]["labels"] == {"release": "kps"}
    assert prometheus["serviceMonitor"]["endpoints"][0]["port"] == "prometheus"


@pytest.mark.parametrize(
    ("controller", "values", "key", "owner"),
    [
        (
            "f5-nginx",
            {"prometheus": {"serviceMonitor": {"create": True}}},
            "ingress.values.prometheus.serviceMonitor.create",
            "metrics.service_monitor",
        ),
        (
            "f5-nginx",
            {"controller": {"customConfigMap": "mine"}},
            "ingress.values.controller.customConfigMap",
            "ingress.proxy_body_size and tls.hsts",
        ),
    ],
)
def test_f5_values_may_not_undo_what_the_schema_sets(
    controller: str, values: dict[str, Any], key: str, owner: str
) -> None:
    config = with_overrides(
        stack_config("local"), ingress__controller=controller, ingress__values=values
    )
    with pytest.raises(ConfigError) as excinfo:
        parse_config(project_config(config))
    assert any(
        f"mlflow-platform:{key}" in line and owner in line for line in excinfo.value.problems
    )
