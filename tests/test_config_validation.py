"""Bad stack config fails fast: the message names the key, the value and what is allowed,
and the engine is asked for nothing at all (no half-made stack)."""

from __future__ import annotations

import pytest

from components.config import ConfigError, parse_config
from infra.config import project_config
from tests.harness import DELETE, Capture, engine_config, run_stack, stack_config, with_overrides

# (stack, overrides, expected fragments of one problem line)
BAD_INPUTS = [
    (
        "local",
        {"environment": "qa"},
        ["mlflow-platform:environment", "'qa'", "local, dev, staging, prod"],
    ),
    (
        "local",
        {"cluster__kind": "eks"},
        ["mlflow-platform:cluster.kind", "'eks'", "'minikube', 'gke', 'existing'"],
    ),
    (
        "local",
        {"cluster__cpus": 1},
        ["mlflow-platform:cluster.cpus", "1", "greater than or equal to 2"],
    ),
    ("local", {"cluster__memory_mb": 512}, ["mlflow-platform:cluster.memory_mb", "512", "2048"]),
    (
        "local",
        {"cluster__driver": "hyperv2"},
        ["mlflow-platform:cluster.driver", "'hyperv2'", "'docker'"],
    ),
    (
        "local",
        {"cluster__kubernetes_version": "1.35"},
        ["mlflow-platform:cluster.kubernetes_version", "'1.35'", "pattern"],
    ),
    (
        "local",
        {"cluster__colour": "blue"},
        ["mlflow-platform:cluster.colour", "'blue'", "unknown key", "allowed keys:", "cpus"],
    ),
    (
        "local",
        {"databse": {"kind": "in-cluster"}},
        ["mlflow-platform:databse", "unknown key", "allowed keys:", "database"],
    ),
    (
        "local",
        {"mlflow__replicas": 0},
        ["mlflow-platform:mlflow.replicas", "0", "greater than or equal to 1"],
    ),
    (
        "local",
        {"mlflow__replicas": 2},
        ["mlflow-platform:mlflow.replicas", "2", "ReadWriteOnce", "artifacts.kind='gcs'"],
    ),
    (
        "local",
        {"mlflow__host": "MLflow_Local"},
        ["mlflow-platform:mlflow.host", "'MLflow_Local'", "DNS name"],
    ),
    (
        "local",
        {"mlflow__resources": {"cpu_limit": "lots"}},
        ["mlflow-platform:mlflow.resources.cpu_limit", "'lots'", "Kubernetes quantity"],
    ),
    (
        "local",
        {"mlflow__image": "ghcr.io/mlflow/mlflow:latest"},
        ["mlflow-platform:mlflow.image", ":latest", "explicit version tag"],
    ),
    (
        "local",
        {"database__image": "postgres"},
        ["mlflow-platform:database.image", "'postgres'", "explicit version tag"],
    ),
    (
        "local",
        {"ingress__http_node_port": 80},
        ["mlflow-platform:ingress.http_node_port", "80", "30000"],
    ),
    (
        "local",
        {"ingress__service_type": "Ingress"},
        ["mlflow-platform:ingress.service_type", "'Ingress'", "'NodePort'"],
    ),
    (
        "local",
        {"artifacts__kind": "s3"},
        ["mlflow-platform:artifacts.kind", "'s3'", "'gcs', 'volume'"],
    ),
    ("staging", {"mlflow": {"replicas": 1}}, ["mlflow-platform:mlflow.host", "is required"]),
    (
        "dev",
        {"gcp__region": "Europe West"},
        ["mlflow-platform:gcp.region", "'Europe West'", "europe-west1"],
    ),
    ("dev", {"gcp__project": "x"}, ["mlflow-platform:gcp.project", "'x'", "GCP project id"]),
    (
        "dev",
        {"gcp": DELETE},
        ["mlflow-platform:gcp is missing", "database.kind='cloudsql'", "allowed"],
    ),
    (
        "dev",
        {"database__authorized_networks": [{"name": "office", "cidr": "203.0.113.0/33"}]},
        ["mlflow-platform:database.authorized_networks.0.cidr", "'203.0.113.0/33'", "IPv4 CIDR"],
    ),
    (
        "dev",
        {"database__authorized_networks": [{"name": "all", "cidr": "0.0.0.0/0"}]},
        ["mlflow-platform:database", "0.0.0.0/0", "allowed: specific ranges"],
    ),
    (
        "dev",
        {"database__authorized_networks": []},
        ["mlflow-platform:database", "private_ip=false", "authorized_networks"],
    ),
    (
        "dev",
        {"database__tier": "db-huge"},
        ["mlflow-platform:database.tier", "'db-huge'", "pattern"],
    ),
    (
        "dev",
        {"database__tier": "db-perf-optimized-N-2"},
        ["mlflow-platform:database", "ENTERPRISE_PLUS"],
    ),
    (
        "dev",
        {"database__availability_type": "MULTI"},
        ["mlflow-platform:database.availability_type", "'MULTI'", "'ZONAL' or 'REGIONAL'"],
    ),
    (
        "dev",
        {"database__backups": {"enabled": False, "point_in_time_recovery": True}},
        ["mlflow-platform:database.backups", "point_in_time_recovery=true needs enabled=true"],
    ),
    (
        "dev",
        {"database__private_ip": True},
        ["mlflow-platform:database.private_ip", "needs a VPC", "network"],
    ),
    (
        "dev",
        {"artifacts__force_destroy": True, "artifacts__protect": True},
        ["mlflow-platform:artifacts", "protect=true contradicts force_destroy=true"],
    ),
    (
        "dev",
        {"artifacts__import_existing": True},
        ["mlflow-platform:artifacts", "import_existing=true needs bucket_name"],
    ),
    ("staging", {"network": DELETE}, ["mlflow-platform:database.private_ip", "needs a VPC"]),
    (
        "staging",
        {"network__subnet_cidr": "10.16.0.0/20"},
        ["mlflow-platform:network", "overlaps", "disjoint"],
    ),
    (
        "staging",
        {"network__pods_cidr": "not-a-cidr"},
        ["mlflow-platform:network.pods_cidr", "'not-a-cidr'", "IPv4 CIDR"],
    ),
    (
        "staging",
        {"cluster__mode": "serverless"},
        ["mlflow-platform:cluster.mode", "'serverless'", "'autopilot' or 'standard'"],
    ),
    ("staging", {"cluster__master_ipv4_cidr": "172.16.0.0/24"}, ["mlflow-platform:cluster", "/28"]),
    (
        "staging",
        {"cluster__node_pool": {"min_nodes": 5, "max_nodes": 2}},
        ["mlflow-platform:cluster.node_pool", "min <= max"],
    ),
    (
        "staging",
        {"mlflow__max_replicas": 1, "mlflow__replicas": 3},
        ["mlflow-platform:mlflow.max_replicas", "allowed: >= replicas"],
    ),
    (
        "prod",
        {"database__deletion_protection": False},
        ["mlflow-platform:database.deletion_protection", "False", "in prod", "allowed: True"],
    ),
    (
        "prod",
        {
            "database__private_ip": False,
            "database__authorized_networks": [{"name": "o", "cidr": "198.51.100.0/24"}],
        },
        ["mlflow-platform:database.private_ip", "False", "in prod"],
    ),
    (
        "prod",
        {"database__availability_type": "ZONAL"},
        ["mlflow-platform:database.availability_type", "'ZONAL'", "'REGIONAL'"],
    ),
    (
        "prod",
        {"database__backups": {"enabled": True, "point_in_time_recovery": False}},
        ["mlflow-platform:database.backups.point_in_time_recovery", "in prod"],
    ),
    (
        "prod",
        {"mlflow__replicas": 1, "mlflow__max_replicas": 2},
        ["mlflow-platform:mlflow.replicas", "1 in prod", "2 or more"],
    ),
    (
        "prod",
        {"artifacts__protect": False},
        ["mlflow-platform:artifacts.protect", "in prod", "allowed: True"],
    ),
    (
        "prod",
        {"cluster__deletion_protection": False},
        ["mlflow-platform:cluster.deletion_protection", "in prod"],
    ),
    (
        "prod",
        {"database": {"kind": "in-cluster"}},
        ["mlflow-platform:database.kind", "'in-cluster' in prod", "'cloudsql'"],
    ),
]


def _config(stack: str, overrides: dict[str, object]) -> dict[str, object]:
    return with_overrides(stack_config(stack), **overrides)


@pytest.mark.parametrize(
    ("stack", "overrides", "fragments"),
    BAD_INPUTS,
    ids=[f"{s}-{'+'.join(o)}" for s, o, _ in BAD_INPUTS],
)
def test_bad_input_is_named_with_value_and_allowed(stack, overrides, fragments):
    with pytest.raises(ConfigError) as excinfo:
        parse_config(project_config(_config(stack, overrides)))
    assert any(all(f in line for f in fragments) for line in excinfo.value.problems), (
        f"no problem line contains all of {fragments}: {excinfo.value.problems}"
    )


@pytest.mark.parametrize(
    ("stack", "overrides", "fragments"),
    BAD_INPUTS[::4],
    ids=[f"{s}-{'+'.join(o)}" for s, o, _ in BAD_INPUTS[::4]],
)
def test_bad_input_registers_nothing(stack, overrides, fragments):
    """The program fails before its first resource: the engine sees only the stack itself."""
    capture = Capture()
    with pytest.raises(ConfigError) as excinfo:
        run_stack(stack, _config(stack, overrides), capture=capture)
    assert any(fragments[0] in line for line in excinfo.value.problems)
    assert {r.type for r in capture.registrations} <= {"pulumi:pulumi:Stack"}


def test_all_problems_are_reported_at_once():
    config = _config("local", {"cluster__cpus": 1, "mlflow__workers": 0, "extra": 1})
    with pytest.raises(ConfigError) as excinfo:
        parse_config(project_config(config))
    assert len(excinfo.value.problems) == 3
    assert str(excinfo.value).startswith("invalid stack configuration:")


@pytest.mark.parametrize("stack", ["local", "dev", "staging", "prod"])
def test_shipped_stacks_are_valid(stack):
    cfg = parse_config(project_config(stack_config(stack)))
    assert cfg.environment == stack


def test_environment_defaults_fill_what_the_stack_leaves_out():
    minimal = {
        "environment": "prod",
        "gcp": {"project": "proj-123", "region": "us-east1"},
        "network": {},
        "cluster": {"kind": "gke"},
        "database": {"kind": "cloudsql"},
        "artifacts": {"kind": "gcs"},
        "mlflow": {"host": "mlflow.example.com"},
    }
    cfg = parse_config(minimal)
    assert cfg.database.kind == "cloudsql"
    assert cfg.database.availability_type == "REGIONAL"
    assert cfg.database.deletion_protection and cfg.database.private_ip
    assert cfg.database.backups.point_in_time_recovery
    assert cfg.mlflow.replicas == 2 and cfg.ingress.replicas == 2
    assert cfg.artifacts.kind == "gcs" and cfg.artifacts.protect and not cfg.artifacts.force_destroy
    local = parse_config(
        {
            "environment": "local",
            "cluster": {"kind": "minikube"},
            "database": {"kind": "in-cluster"},
            "artifacts": {"kind": "volume"},
        }
    )
    assert local.mlflow.host == "mlflow.local" and local.mlflow.workers == 1
    assert local.ingress_service_type == "NodePort"


def test_engine_strings_are_coerced_like_the_cli_passes_them():
    raw = project_config(
        {
            "mlflow-platform:environment": "local",
            "mlflow-platform:cluster": '{"kind": "minikube", "cpus": 4}',
            "mlflow-platform:database": '{"kind": "in-cluster"}',
            "mlflow-platform:artifacts": '{"kind": "volume"}',
            "other:key": "ignored",
        }
    )
    cfg = parse_config(raw)
    assert cfg.cluster.kind == "minikube" and cfg.cluster.cpus == 4


@pytest.mark.parametrize("kind", ["in-cluster", "cloudsql"])
def test_password_rotation_takes_a_number_as_its_text(kind):
    # `pulumi config set --path database.password_rotation 2` stores the number 2.
    config = stack_config("local" if kind == "in-cluster" else "dev")
    config["mlflow-platform:database"] = {
        **config["mlflow-platform:database"],
        "password_rotation": 2,
    }
    database = parse_config(project_config(engine_config(config))).database
    assert database.password_rotation == "2"
