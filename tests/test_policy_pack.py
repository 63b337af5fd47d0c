"""The rules issue #21 added to the policy pack: each passes on what the stacks render and fails
on the broken variant; prod is known by the stack's name or its resources' `environment`."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any, cast

import pytest
from pulumi_policy import EnforcementLevel

from policy.environment import stack_is_local, stack_is_prod
from policy.networks import too_wide
from tests.harness import Capture, Registration
from tests.test_policy import BY_NAME, stack_violations, violations

CRON = "kubernetes:batch/v1:CronJob"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
RELEASE = "kubernetes:helm.sh/v3:Release"
CLUSTER = "gcp:container/cluster:Cluster"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"

# What a test does to a copy of a resource's inputs (or to a part of them).
Change = Callable[[dict[str, Any]], object]


def changed(reg: Registration, change: Change) -> dict[str, Any]:
    """A copy of the resource's inputs after `change(props)`."""
    props = copy.deepcopy(reg.inputs)
    change(props)
    return props


def renamed(regs: list[Registration], stack: str, old: str) -> list[Registration]:
    return [
        dataclasses.replace(r, urn=r.urn.replace(f"urn:pulumi:{old}::", f"urn:pulumi:{stack}::"))
        for r in regs
    ]


def with_props(
    regs: list[Registration], reg: Registration, props: dict[str, Any]
) -> list[Registration]:
    return [dataclasses.replace(r, raw_inputs=props) if r is reg else r for r in regs]


def _pod(props: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], props["spec"]["jobTemplate"]["spec"]["template"]["spec"])


def _gc(props: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], _pod(props)["containers"][0])


# --- prod by name and by environment ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "prod"),
    [
        ("prod", True),
        ("Prod", True),
        ("PRD", True),
        ("production", True),
        ("live", True),
        ("eu-prod", True),
        ("prod-eu", True),
        ("Live_EU", True),
        ("dev", False),
        ("staging", False),
        ("preprod", False),
        ("products", False),
        ("local", False),
    ],
)
def test_prod_is_known_by_the_stack_name(name: str, prod: bool) -> None:
    assert stack_is_prod([(f"urn:pulumi:{name}::mlflow-platform::t::n", {})]) is prod


def test_prod_is_known_by_the_environment_label(stacks: dict[str, Capture]) -> None:
    regs = renamed(stacks["prod"].registrations, "eu-main", "prod")
    assert stack_is_prod([(r.urn, r.inputs) for r in regs])  # environment: prod on GCP
    dev = [(r.urn, r.inputs) for r in renamed(stacks["dev"].registrations, "eu-main", "dev")]
    assert not stack_is_prod(dev) and not stack_is_local(dev)
    # A prod-only rule is mandatory there: the prod Ingress with https off.
    ingress = next(r for r in regs if r.type == INGRESS and r.name == "mlflow")
    off = changed(
        ingress,
        lambda p: p["metadata"]["annotations"].update(
            {"nginx.ingress.kubernetes.io/ssl-redirect": "false"}
        ),
    )
    broken = with_props(regs, ingress, off)
    assert stack_violations("ingress-https-kept", broken)
    assert not stack_violations("ingress-https-kept-advisory", broken)


# --- wide allowlists ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ranges", "wide"),
    [
        (["0.0.0.0/0"], True),
        (["0.0.0.0/1"], True),
        (["0.0.0.0/1", "128.0.0.0/1"], True),
        (["::/0"], True),
        (["34.0.0.0/7"], True),
        (["203.0.113.0/24"], False),
        (["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], False),
    ],
)
def test_allowlists_as_wide_as_the_internet(ranges: list[str], wide: bool) -> None:
    assert (too_wide(ranges) is not None) is wide


def test_cloud_sql_refuses_a_union_as_wide_as_the_internet(stacks: dict[str, Capture]) -> None:
    sql = stacks["prod"].one("gcp:sql/databaseInstance:DatabaseInstance")
    halves = [{"name": "a", "value": "0.0.0.0/1"}, {"name": "b", "value": "128.0.0.0/1"}]
    props = changed(
        sql, lambda p: p["settings"]["ipConfiguration"].update(authorizedNetworks=halves)
    )
    assert violations("cloudsql-tls-and-closed", sql, props=props) == [
        "Cloud SQL authorized networks: 0.0.0.0/1, 128.0.0.0/1 opens 100.0% of the internet"
    ]


# --- workloads: host access and privileges, CronJobs included ------------------------------

PRIVILEGES = [
    (lambda c, p: c["securityContext"].update(privileged=True), "is privileged"),
    (
        lambda c, p: c["securityContext"].update(allowPrivilegeEscalation=True),
        "allowPrivilegeEscalation",
    ),
    (
        lambda c, p: c["securityContext"].pop("allowPrivilegeEscalation"),
        "allowPrivilegeEscalation: false",
    ),
    (lambda c, p: c["securityContext"].update(capabilities={"add": ["SYS_ADMIN"]}), "SYS_ADMIN"),
    (lambda c, p: c["securityContext"].update(runAsUser=0), "runs as user 0"),
    (lambda c, p: p["securityContext"].update(runAsUser=0), "pod runs as user 0"),
    (lambda c, p: p.update(hostNetwork=True), "(hostNetwork)"),
    (lambda c, p: p.update(hostPID=True), "(hostPID)"),
    (lambda c, p: p.update(hostIPC=True), "(hostIPC)"),
    (
        lambda c, p: p["volumes"].append({"name": "root", "hostPath": {"path": "/"}}),
        "mounts the node's '/' (hostPath)",
    ),
]


@pytest.mark.parametrize(("change", "message"), PRIVILEGES, ids=[m for _, m in PRIVILEGES])
def test_a_cronjob_with_host_access_or_privileges_is_refused(
    stacks: dict[str, Capture],
    change: Callable[[dict[str, Any], dict[str, Any]], object],
    message: str,
) -> None:
    cron = stacks["dev"].one(CRON)
    assert violations("workloads-no-host-access", cron) == []
    props = changed(cron, lambda p: change(_gc(p), _pod(p)))
    found = violations("workloads-no-host-access", cron, props=props)
    assert any(message in m for m in found), found


def test_every_shipped_workload_passes_and_cronjobs_are_checked_for_hardening(
    stacks: dict[str, Capture],
) -> None:
    for stack in ("local", "dev", "prod"):
        for kind in (CRON, DEPLOYMENT, "kubernetes:batch/v1:Job"):
            for reg in stacks[stack].of_type(kind):
                assert violations("workloads-no-host-access", reg) == [], (stack, reg.name)
    cron = stacks["dev"].one(CRON)
    props = changed(cron, lambda p: _gc(p).update(image="ghcr.io/mlflow/mlflow:latest"))
    assert any(":latest" in m for m in violations("containers-hardened", cron, props=props))


# --- ConfigMaps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "key", "value"),
    [
        ("data", "OPENAI_API_KEY", "x"),
        ("data", "AWS_ACCESS_KEY_ID", "x"),
        ("data", "MODEL_ENDPOINT", "sk-proj-0123456789abcdefghijkl"),
        ("binaryData", "db_password", "aHVudGVyMg=="),
        ("binaryData", "tls.pem", "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCg=="),
    ],
)
def test_a_secret_in_a_config_map_is_refused(
    stacks: dict[str, Capture], field: str, key: str, value: str
) -> None:
    config_map = stacks["dev"].one(CONFIG_MAP)
    assert violations("no-secrets-in-configmaps", config_map) == []
    props = changed(config_map, lambda p: p.setdefault(field, {}).update({key: value}))
    assert violations("no-secrets-in-configmaps", config_map, props=props) == [
        f"ConfigMap key {key!r} looks like a secret: use a Secret"
    ]


# --- Ingress annotations and controller values --------------------------------------------


def _annotated(reg: Registration, **annotations: str) -> dict[str, Any]:
    return changed(reg, lambda p: p["metadata"].setdefault("annotations", {}).update(annotations))


@pytest.mark.parametrize(
    ("annotation", "value", "message"),
    [
        ("nginx.ingress.kubernetes.io/auth-url", "", "the sign-in is skipped"),
        ("nginx.ingress.kubernetes.io/configuration-snippet", "allow all;", "raw NGINX"),
        ("nginx.org/server-snippets", "return 200;", "raw NGINX"),
    ],
)
def test_an_ingress_bypassing_the_login_is_refused(
    stacks: dict[str, Capture], annotation: str, value: str, message: str
) -> None:
    ingress = stacks["dev"].one(INGRESS)
    assert violations("ingress-no-login-bypass", ingress) == []
    props = _annotated(ingress, **{annotation: value})
    found = violations("ingress-no-login-bypass", ingress, props=props)
    assert found and message in found[0]


def test_an_empty_auth_url_is_no_login(stacks: dict[str, Capture]) -> None:
    regs = renamed(stacks["local"].registrations, "dev", "local")
    assert stack_violations("mlflow-login", regs) == []
    ingress = next(r for r in regs if r.type == INGRESS)
    deployment = next(r for r in regs if r.type == DEPLOYMENT and r.name == "mlflow")

    def no_basic_auth(p: dict[str, Any]) -> None:
        container = p["spec"]["template"]["spec"]["containers"][0]
        container["args"] = [a for a in container["args"] if a not in ("--app-name", "basic-auth")]

    regs = with_props(regs, deployment, changed(deployment, no_basic_auth))
    regs = with_props(
        regs, ingress, _annotated(ingress, **{"nginx.ingress.kubernetes.io/auth-url": " "})
    )
    assert stack_violations("mlflow-login", regs)


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        ("nginx.ingress.kubernetes.io/ssl-redirect", "false"),
        ("nginx.ingress.kubernetes.io/force-ssl-redirect", "false"),
        ("nginx.org/redirect-to-https", "False"),
        ("ingress.kubernetes.io/ssl-redirect", "False"),
    ],
)
def test_plain_http_on_prod_is_refused(
    stacks: dict[str, Capture], annotation: str, value: str
) -> None:
    ingress = next(r for r in stacks["prod"].of_type(INGRESS) if r.name == "mlflow")
    assert violations("ingress-https-kept", ingress) == []
    props = _annotated(ingress, **{annotation: value})
    assert violations("ingress-https-kept", ingress, props=props)
    dev = next(r for r in stacks["dev"].of_type(INGRESS) if r.name == "mlflow")
    assert violations("ingress-https-kept", dev, props=props) == []  # dev: advisory only


def _controller(props: dict[str, Any]) -> dict[str, Any]:
    return dict(props["values"]["controller"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(allowSnippetAnnotations=True), "snippets"),
        (lambda c: c.update(enableSnippets=True), "snippets"),
        (lambda c: c["config"].update({"allow-snippet-annotations": "true"}), "snippets"),
        (lambda c: c["config"].update({"annotations-risk-level": "Critical"}), "Critical"),
    ],
)
def test_unsafe_controller_values_are_refused(
    stacks: dict[str, Capture], change: Change, message: str
) -> None:
    release = stacks["prod"].one(RELEASE, "mlflow-ingress")
    assert violations("ingress-controller-values", release) == []
    props = changed(release, lambda p: change(p["values"]["controller"]))
    found = violations("ingress-controller-values", release, props=props)
    assert found and message in found[0]


def test_prod_without_hsts_is_refused(stacks: dict[str, Capture]) -> None:
    release = stacks["prod"].one(RELEASE, "mlflow-ingress")
    assert violations("ingress-controller-hsts", release) == []
    off = changed(release, lambda p: p["values"]["controller"]["config"].update(hsts="false"))
    assert violations("ingress-controller-hsts", release, props=off)
    # F5's controller sends none unless told to.
    f5 = changed(release, lambda p: p["values"]["controller"].update(config={"entries": {}}))
    assert violations("ingress-controller-hsts", release, props=f5)


# --- MLflow's own protections --------------------------------------------------------------


def _server_args(regs: list[Registration], *extra: str) -> list[Registration]:
    deployment = next(r for r in regs if r.type == DEPLOYMENT and r.name == "mlflow")

    def add(p: dict[str, Any]) -> None:
        p["spec"]["template"]["spec"]["containers"][0]["args"] += list(extra)

    return with_props(regs, deployment, changed(deployment, add))


def test_mlflow_without_its_protections_is_refused_on_prod(stacks: dict[str, Capture]) -> None:
    regs = stacks["prod"].registrations
    assert stack_violations("mlflow-security-middleware", regs) == []
    found = stack_violations(
        "mlflow-security-middleware", _server_args(regs, "--disable-security-middleware")
    )
    assert found and "--disable-security-middleware" in found[0]
    config_map = next(r for r in regs if r.type == CONFIG_MAP and r.name == "mlflow")
    star = changed(
        config_map,
        lambda p: p["data"].update(
            TRACKING_ALLOWED_HOSTS=p["data"]["TRACKING_ALLOWED_HOSTS"] + ",*"
        ),
    )
    found = stack_violations("mlflow-security-middleware", with_props(regs, config_map, star))
    assert found and "allowed hosts '*'" in found[0]
    assert stack_violations(
        "mlflow-security-middleware", _server_args(regs, "--allowed-hosts", "*")
    )


# --- GKE, IAM, firewall, load balancers ----------------------------------------------------


def _networks(*cidrs: str) -> dict[str, Any]:
    return {"cidrBlocks": [{"cidrBlock": c, "displayName": c} for c in cidrs]}


@pytest.mark.parametrize(
    ("networks", "message"),
    [
        (_networks("0.0.0.0/1"), "50.0% of the internet"),
        (_networks("0.0.0.0/1", "128.0.0.0/1"), "100.0% of the internet"),
        ({"gcpPublicCidrsAccessEnabled": True}, "every Google Cloud public address"),
    ],
)
def test_wide_gke_authorized_networks_are_refused(
    stacks: dict[str, Capture], networks: dict[str, Any], message: str
) -> None:
    cluster = stacks["prod"].one(CLUSTER)
    assert violations("gke-authorized-networks-narrow", cluster) == []
    props = changed(cluster, lambda p: p.update(masterAuthorizedNetworksConfig=networks))
    found = violations("gke-authorized-networks-narrow", cluster, props=props)
    assert found and message in found[0]
    narrow = changed(
        cluster, lambda p: p.update(masterAuthorizedNetworksConfig=_networks("203.0.113.0/24"))
    )
    assert violations("gke-authorized-networks-narrow", cluster, props=narrow) == []


@pytest.mark.parametrize(
    "closing",
    [
        {"masterAuthorizedNetworksConfig": _networks("203.0.113.0/24")},
        {"privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True}},
        {"controlPlaneEndpointsConfig": {"ipEndpointsConfig": {"enabled": False}}},
    ],
)
def test_an_open_prod_control_plane_is_refused_until_closed(
    stacks: dict[str, Capture], closing: dict[str, Any]
) -> None:
    cluster = stacks["prod"].one(CLUSTER)
    assert violations("gke-control-plane-closed", cluster) == []  # shipped prod: DNS endpoint
    opened = {
        "controlPlaneEndpointsConfig": {"ipEndpointsConfig": {"enabled": True}},
        "masterAuthorizedNetworksConfig": None,
        "privateClusterConfig": None,
    }
    public = changed(cluster, lambda p: p.update(opened))
    found = violations("gke-control-plane-closed", cluster, props=public)
    assert found and "reachable from the internet" in found[0]
    closed = changed(cluster, lambda p: p.update({**opened, **closing}))
    assert violations("gke-control-plane-closed", cluster, props=closed) == []


def test_gke_standard_without_dataplane_v2_is_refused(stacks: dict[str, Capture]) -> None:
    cluster = stacks["prod"].one(CLUSTER)
    assert violations("gke-network-policy-enforced", cluster) == []  # Autopilot
    standard = changed(cluster, lambda p: p.update(enableAutopilot=False))
    assert violations("gke-network-policy-enforced", cluster, props=standard)
    standard["datapathProvider"] = "ADVANCED_DATAPATH"
    assert violations("gke-network-policy-enforced", cluster, props=standard) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(member="allUsers"), "to allUsers"),
        (lambda p: p.update(members=["allAuthenticatedUsers"]), "to allAuthenticatedUsers"),
        (lambda p: p.update(role="roles/editor"), "primitive role 'roles/editor'"),
        (lambda p: p.update(role="roles/owner"), "primitive role 'roles/owner'"),
    ],
)
def test_public_or_primitive_iam_is_refused(
    stacks: dict[str, Capture], change: Change, message: str
) -> None:
    member = stacks["prod"].one("gcp:storage/bucketIAMMember:BucketIAMMember")
    assert violations("iam-not-public-or-primitive", member) == []
    found = violations("iam-not-public-or-primitive", member, props=changed(member, change))
    assert found and message in found[0]


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        (lambda p: p.update(sourceRanges=["0.0.0.0/0"]), True),
        (lambda p: p.update(sourceRanges=["0.0.0.0/1", "128.0.0.0/1"]), True),
        (lambda p: p.pop("sourceRanges"), True),  # Google Cloud's default source: everyone
        (lambda p: p.update(sourceRanges=["0.0.0.0/0"], direction="EGRESS"), False),
    ],
)
def test_a_firewall_open_to_the_internet_is_refused(
    stacks: dict[str, Capture], change: Change, refused: bool
) -> None:
    rule = stacks["prod"].one("gcp:compute/firewall:Firewall")
    assert violations("firewall-not-open", rule) == []
    assert bool(violations("firewall-not-open", rule, props=changed(rule, change))) is refused


def test_load_balancers_without_source_ranges_are_flagged_advisory(
    stacks: dict[str, Capture],
) -> None:
    assert BY_NAME["load-balancer-source-ranges"].enforcement_level == EnforcementLevel.ADVISORY
    release = stacks["prod"].one(RELEASE, "mlflow-ingress")
    assert "without" not in str(violations("load-balancer-source-ranges", release))
    assert violations("load-balancer-source-ranges", release)  # prod ships allowed_source_ranges []

    def ranges(*cidrs: str) -> dict[str, Any]:
        return changed(
            release,
            lambda p: p["values"]["controller"]["service"].update(
                loadBalancerSourceRanges=list(cidrs)
            ),
        )

    assert violations("load-balancer-source-ranges", release, props=ranges("203.0.113.0/24")) == []
    assert violations("load-balancer-source-ranges", release, props=ranges("0.0.0.0/1"))
    service = {"spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}}
    as_service = dataclasses.replace(release, type="kubernetes:core/v1:Service", raw_inputs=service)
    assert violations("load-balancer-source-ranges", as_service)
