"""The four shipped stacks, evaluated end to end under mocks, and how they are wired."""

from __future__ import annotations

import pytest

from components.workload.mlflow.containers import DRAIN_SECONDS
from tests.harness import (
    DELETE,
    MOCK_PASSWORD_PREFIX,
    STACKS,
    Capture,
    redacted,
    run_stack,
    stack_config,
    with_overrides,
)

COMMON = {
    "mlflow-platform:platform:Platform",
    "mlflow-platform:mlflow:MlflowServer",
    "mlflow-platform:ingress:IngressController",
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Secret",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:core/v1:Service",
    "kubernetes:networking.k8s.io/v1:Ingress",
    "random:index/randomPassword:RandomPassword",
}
EXPECTED = {
    "local": COMMON
    | {
        "mlflow-platform:cluster:MinikubeCluster",
        "mlflow-platform:database:InClusterPostgres",
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:core/v1:PersistentVolumeClaim",
    },
    "dev": COMMON
    | {
        "mlflow-platform:cluster:MinikubeCluster",
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:storage/bucket:Bucket",
        "gcp:projects/service:Service",
    },
    "staging": COMMON
    | {
        "gcp:container/cluster:Cluster",
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:servicenetworking/connection:Connection",
        "gcp:storage/bucket:Bucket",
        "mlflow-platform:identity:WorkloadIdentity",
    },
    "prod": COMMON
    | {
        "gcp:container/cluster:Cluster",
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:storage/bucket:Bucket",
        "kubernetes:policy/v1:PodDisruptionBudget",
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    },
}
ABSENT = {
    "local": {"gcp:", "pulumi:providers:gcp"},
    "dev": {"gcp:container/", "gcp:servicenetworking/"},
}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_registers_the_expected_resources(stacks: dict[str, Capture], stack: str) -> None:
    capture = stacks[stack]
    assert EXPECTED[stack] <= capture.types, EXPECTED[stack] - capture.types
    for prefix in ABSENT.get(stack, ()):
        assert not [t for t in capture.types if t.startswith(prefix)], prefix


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_belongs_to_the_platform(stacks: dict[str, Capture], stack: str) -> None:
    capture = stacks[stack]
    platform = capture.one("mlflow-platform:platform:Platform")
    for reg in capture.registrations:
        if reg.type in ("pulumi:pulumi:Stack", "mlflow-platform:platform:Platform"):
            continue
        assert platform in capture.ancestors(reg), reg.urn


@pytest.mark.parametrize("stack", STACKS)
def test_stack_outputs(stacks: dict[str, Capture], stack: str) -> None:
    outputs = stacks[stack].outputs
    gke = {"ingress_ip"} if stack in ("staging", "prod") else set()
    cloud_sql = {"upgrade_backup_id"} if stack != "local" else set()
    own_ca = {"ca_certificate_secret"} if stack in ("local", "dev") else set()
    assert set(outputs) == {
        "mlflow_url",
        "namespace",
        "kubeconfig",
        "database",
        "artifact_store",
        "tracking_uri_hint",
        "admin_username",
        "admin_password",
        *gke,
        *cloud_sql,
        *own_ca,
    }
    if own_ca:
        assert outputs["ca_certificate_secret"] == ("cert-manager/mlflow-platform-ca", False)
    assert outputs["kubeconfig"][1] is True, "kubeconfig must be a secret output"
    assert outputs["admin_password"][1] is True, "the admin password must be a secret output"
    assert outputs["admin_username"][0] == "admin"
    assert outputs["namespace"][0] == "mlflow"
    assert "MLFLOW_TRACKING_URI=" + outputs["mlflow_url"][0] in outputs["tracking_uri_hint"][0]
    for name, (value, secret) in outputs.items():
        assert MOCK_PASSWORD_PREFIX not in str(value) or secret, name


def test_output_values_per_environment(stacks: dict[str, Capture]) -> None:
    # https on its own node port: the local stack has a certificate from its own CA.
    assert stacks["local"].outputs["mlflow_url"][0] == "https://mlflow.local:30443"
    assert stacks["prod"].outputs["mlflow_url"][0] == "https://mlflow.example.com"
    assert stacks["dev"].outputs["artifact_store"][0] == "gs://my-mlflow-dev-mlflow-dev"
    assert stacks["staging"].outputs["database"][0].startswith("my-mlflow-staging:europe-west1:")


@pytest.mark.parametrize("stack", STACKS)
def test_password_is_secret_everywhere_it_travels(stacks: dict[str, Capture], stack: str) -> None:
    """The generated password reaches only Secrets and the SQL user, and always wrapped."""
    capture = stacks[stack]
    holders = set()
    for reg in capture.registrations:
        if MOCK_PASSWORD_PREFIX in str(reg.inputs):
            holders.add(reg.type)
            assert MOCK_PASSWORD_PREFIX not in str(redacted(reg.raw_inputs)), reg.urn
    assert holders, "the password must reach the workload"
    assert holders <= {"kubernetes:core/v1:Secret", "gcp:sql/user:User"}, holders
    for config_map in capture.of_type("kubernetes:core/v1:ConfigMap"):
        assert "postgresql" not in str(config_map.inputs)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_cluster_database_and_bucket_deploy_in_parallel(
    stacks: dict[str, Capture], stack: str
) -> None:
    capture = stacks[stack]
    big_three = {
        "cluster": capture.one("gcp:container/cluster:Cluster"),
        "database": capture.one("gcp:sql/databaseInstance:DatabaseInstance"),
        "bucket": capture.one("gcp:storage/bucket:Bucket"),
    }
    for a, reg_a in big_three.items():
        for b, reg_b in big_three.items():
            if a != b:
                assert not capture.depends_on(reg_a, reg_b), f"{a} waits for {b}"
    apis = capture.one("mlflow-platform:network:ProjectServices")
    assert all(capture.depends_on(r, apis) for r in big_three.values())


@pytest.mark.parametrize("stack", STACKS)
def test_mlflow_waits_for_what_it_needs(stacks: dict[str, Capture], stack: str) -> None:
    """The server waits for its stores and permissions; only the Ingress waits for the
    controller (its admission webhook), so the Deployment rolls out while the chart installs."""
    capture = stacks[stack]
    deployment = capture.one("kubernetes:apps/v1:Deployment", "mlflow")
    needs = capture.of_type("gcp:sql/user:User") + capture.of_type("gcp:storage/bucket:Bucket")
    needs += capture.of_type("kubernetes:apps/v1:StatefulSet")
    needs += capture.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    for need in needs:
        assert capture.depends_on(deployment, need), need.urn
    controller = capture.one("kubernetes:helm.sh/v3:Release", "mlflow-ingress")
    ingress = capture.one("kubernetes:networking.k8s.io/v1:Ingress", "mlflow")
    assert capture.depends_on(ingress, controller)
    assert not capture.depends_on(deployment, controller)


def test_prod_safety_settings(stacks: dict[str, Capture]) -> None:
    capture = stacks["prod"]
    instance = capture.one("gcp:sql/databaseInstance:DatabaseInstance")
    settings = instance.inputs["settings"]
    assert instance.protect and instance.inputs["deletionProtection"] is True
    assert settings["availabilityType"] == "REGIONAL"
    assert settings["ipConfiguration"]["ipv4Enabled"] is False
    assert settings["backupConfiguration"]["enabled"] is True
    assert settings["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    bucket = capture.one("gcp:storage/bucket:Bucket")
    assert bucket.protect and bucket.inputs["forceDestroy"] is False
    assert capture.one("gcp:container/cluster:Cluster").inputs["deletionProtection"] is True
    assert capture.one("kubernetes:apps/v1:Deployment").inputs["spec"]["replicas"] >= 2
    proxy = capture.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"][
        "initContainers"
    ][0]
    assert proxy["name"] == "cloud-sql-proxy"


def test_dev_and_local_are_disposable(stacks: dict[str, Capture]) -> None:
    dev = stacks["dev"]
    assert dev.one("gcp:storage/bucket:Bucket").inputs["forceDestroy"] is True
    instance = dev.one("gcp:sql/databaseInstance:DatabaseInstance")
    assert not instance.protect and instance.inputs["deletionProtection"] is False
    assert instance.inputs["settings"]["ipConfiguration"]["ipv4Enabled"] is True
    assert not any(r.protect for r in stacks["local"].registrations)


def test_existing_bucket_and_instance_are_adopted_not_created() -> None:
    config = with_overrides(
        stack_config("prod"),
        artifacts__bucket_name="legacy-mlflow",
        artifacts__import_existing=True,
        database__import_instance="legacy-sql",
    )
    capture = run_stack("prod", config)
    bucket = capture.one("gcp:storage/bucket:Bucket")
    assert bucket.import_id == "legacy-mlflow" and bucket.inputs["name"] == "legacy-mlflow"
    instance = capture.one("gcp:sql/databaseInstance:DatabaseInstance")
    assert instance.import_id == "projects/my-mlflow-prod/instances/legacy-sql"
    assert instance.inputs["name"] == "legacy-sql"
    shipped = run_stack("prod")
    assert not [r for r in shipped.registrations if r.import_id]


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_adopted_bucket_and_instance_keep_their_data_in_every_environment(stack: str) -> None:
    """Even on a disposable stack (force_destroy, no protection): adopted means kept."""
    config = with_overrides(
        stack_config(stack),
        artifacts__bucket_name="legacy-mlflow",
        artifacts__import_existing=True,
        database__import_instance="legacy-sql",
    )
    capture = run_stack(stack, config)
    bucket = capture.one("gcp:storage/bucket:Bucket")
    assert bucket.protect and bucket.inputs["forceDestroy"] is False
    instance = capture.one("gcp:sql/databaseInstance:DatabaseInstance")
    assert instance.protect
    for database in capture.of_type("gcp:sql/database:Database"):  # MLflow's and basic auth's
        assert database.inputs["deletionPolicy"] == "ABANDON", database.name
    assert capture.one("gcp:sql/user:User").inputs["deletionPolicy"] == "ABANDON"
    own = run_stack(stack)
    assert own.one("gcp:storage/bucket:Bucket").inputs["forceDestroy"] is True
    assert not own.one("gcp:sql/databaseInstance:DatabaseInstance").protect
    assert all("deletionPolicy" not in d.inputs for d in own.of_type("gcp:sql/database:Database"))


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_cloud_sql_user_is_abandoned_so_destroy_finishes(
    stacks: dict[str, Capture], stack: str
) -> None:
    """MLflow's role owns its tables once migrated: deleting the user would fail the destroy
    (tests/integration/test_cloud_sql_user_drop.py shows PostgreSQL refusing it)."""
    user = stacks[stack].one("gcp:sql/user:User")
    assert user.inputs["deletionPolicy"] == "ABANDON"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_private_nodes_let_the_control_plane_reach_the_admission_webhook(
    stacks: dict[str, Capture], stack: str
) -> None:
    """Private GKE: the control plane reaches nodes on a few ports only; ingress-nginx's
    admission webhook listens on 8443, so Ingress writes need this rule."""
    capture = stacks[stack]
    rule = capture.one("gcp:compute/firewall:Firewall")
    master = stack_config(stack)["mlflow-platform:cluster"]["master_ipv4_cidr"]
    assert rule.inputs["sourceRanges"] == [master]
    assert rule.inputs["allows"] == [{"protocol": "tcp", "ports": ["8443"]}]
    assert rule.inputs["direction"] == "INGRESS"
    network = capture.one("gcp:compute/network:Network")
    assert capture.depends_on(rule, network)


@pytest.mark.parametrize("stack", ["local", "dev"])
def test_no_webhook_rule_without_private_nodes(stacks: dict[str, Capture], stack: str) -> None:
    assert not stacks[stack].of_type("gcp:compute/firewall:Firewall")


def test_public_gke_nodes_need_no_webhook_rule() -> None:
    config = with_overrides(
        stack_config("staging"),
        cluster__private_nodes=False,
        cluster__master_ipv4_cidr=DELETE,
        database__private_ip=False,
        database__authorized_networks=[{"name": "o", "cidr": "203.0.113.0/24"}],
    )
    assert not run_stack("staging", config).of_type("gcp:compute/firewall:Firewall")


@pytest.mark.parametrize("stack", STACKS)
def test_tmp_and_ephemeral_storage_hold_the_largest_upload(
    stacks: dict[str, Capture], stack: str
) -> None:
    """MLflow spools a proxied upload in /tmp: ingress.proxy_body_size (5g) plus 1 GiB of
    headroom, and the server requests that much ephemeral storage (and 512 MiB more)."""
    pod = stacks[stack].one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert tmp["emptyDir"]["sizeLimit"] == "6144Mi"
    server = next(c for c in pod["containers"] if c["name"] == "mlflow")
    assert server["resources"]["requests"]["ephemeral-storage"] == "6656Mi"
    assert server["resources"]["limits"]["ephemeral-storage"] == "6656Mi"
    for container in pod["initContainers"]:
        assert "ephemeral-storage" in container["resources"]["requests"], container["name"]


def test_a_larger_body_size_grows_tmp() -> None:
    config = with_overrides(stack_config("dev"), ingress__proxy_body_size="2G")
    pod = run_stack("dev", config).one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]
    tmp = next(v for v in pod["spec"]["volumes"] if v["name"] == "tmp")
    assert tmp["emptyDir"]["sizeLimit"] == "3072Mi"


def test_a_read_write_many_volume_serves_several_pods_and_rolls() -> None:
    config = with_overrides(
        stack_config("local"),
        artifacts__access_mode="ReadWriteMany",
        mlflow__replicas=2,
    )
    capture = run_stack("local", config)
    claim = capture.one("kubernetes:core/v1:PersistentVolumeClaim", "mlflow-artifacts")
    assert claim.inputs["spec"]["accessModes"] == ["ReadWriteMany"]
    deployment = capture.one("kubernetes:apps/v1:Deployment", "mlflow").inputs["spec"]
    assert deployment["replicas"] == 2
    # Old and new pods may share the volume, so updates roll instead of stopping MLflow first.
    assert deployment["strategy"]["type"] == "RollingUpdate"
    assert capture.one("kubernetes:policy/v1:PodDisruptionBudget")


# What uvicorn has left after the drain to finish the requests in flight; tracking calls take well
# under a second.
SHUTDOWN_SECONDS = 15


@pytest.mark.parametrize("stack", STACKS)
def test_a_stopping_server_keeps_serving_until_kube_proxy_has_caught_up(
    stacks: dict[str, Capture], stack: str
) -> None:
    pod = stacks[stack].one("kubernetes:apps/v1:Deployment", "mlflow").inputs["spec"]["template"]
    server = next(c for c in pod["spec"]["containers"] if c["name"] == "mlflow")
    assert server["lifecycle"]["preStop"] == {"sleep": {"seconds": DRAIN_SECONDS}}
    assert DRAIN_SECONDS >= 10
    # The kubelet sends SIGKILL this long after the drain began (30 s by default): what is left
    # after the drain is uvicorn's own shutdown, which finishes the requests in flight.
    grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
    assert grace - DRAIN_SECONDS >= SHUTDOWN_SECONDS
