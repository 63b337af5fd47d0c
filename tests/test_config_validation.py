"""Bad stack config fails fast: the message names the key, the value and what is allowed,
and the engine is asked for nothing at all (no half-made stack)."""

from __future__ import annotations

import re

import pytest

from components.config import ConfigError, PlatformConfig, parse_config
from infra.config import parse_engine_config, project_config
from tests.harness import (
    DELETE,
    MOCK_KUBECONFIG_PATH,
    Capture,
    engine_config,
    engine_secret_keys,
    run_stack,
    stack_config,
    with_overrides,
)
from tests.secure_config_cases import SECURE_ACCEPTED, SECURE_CASES, Accepted, Case

KUBECONFIG = str(MOCK_KUBECONFIG_PATH)

# (stack, overrides, expected fragments of one problem line)
BAD_INPUTS: list[tuple[str, dict[str, object], list[str]]] = [
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
        ["mlflow-platform:cluster.cpus = 1", "allowed: 2 or more"],
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
        ["mlflow-platform:cluster.kubernetes_version", "'1.35'", "such as v1.35.0"],
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
        ["mlflow-platform:mlflow.replicas = 0", "allowed: 1 or more"],
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
        ["mlflow-platform:database.tier", "'db-huge'", "db-custom-2-7680"],
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
        {"cluster__mode": "standard", "cluster__node_pool": {"min_nodes": 5, "max_nodes": 2}},
        ["mlflow-platform:cluster.node_pool.min_nodes", "5", "min_nodes <= max_nodes"],
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


# What a new user writes and GCP, Kubernetes or common sense would refuse later (issue #11).
LONG = "a" * 60
BAD_INPUTS += [
    # --- ingress.values may not undo a setting the schema owns
    (
        "local",
        {"ingress__values": {"controller": {"replicaCount": 3}}},
        ["mlflow-platform:ingress.values.controller.replicaCount", "3", "ingress.replicas"],
    ),
    (
        "local",
        {"ingress__values": {"controller": {"service": {"type": "LoadBalancer"}}}},
        ["mlflow-platform:ingress.values.controller.service.type", "ingress.service_type"],
    ),
    (
        "local",
        {"ingress__values": {"controller": {"service": {"nodePorts": {"http": 30081}}}}},
        ["mlflow-platform:ingress.values.controller.service.nodePorts", "ingress.http_node_port"],
    ),
    (
        "local",
        {"ingress__values": {"controller": {"ingressClass": "public"}}},
        ["mlflow-platform:ingress.values.controller.ingressClass", "'public'", "class nginx"],
    ),
    (
        "local",
        {"ingress__values": {"controller": {"ingressClassResource": {"name": "x"}}}},
        ["mlflow-platform:ingress.values.controller.ingressClassResource", "class nginx"],
    ),
    (
        "local",
        {"ingress__values": {"controller": {"config": {"proxy-body-size": "1m"}}}},
        ["mlflow-platform:ingress.values.controller.config.proxy-body-size", "proxy_body_size"],
    ),
    # --- the second controller: its own chart keys are owned, and the oidc sign-in needs nginx's
    (
        "local",
        {"ingress__controller": "traefik"},
        ["mlflow-platform:ingress.controller", "'traefik'", "'ingress-nginx'", "'f5-nginx'"],
    ),
    (
        "local",
        {
            "ingress__controller": "f5-nginx",
            "ingress__values": {"controller": {"service": {"httpPort": {"nodePort": 30081}}}},
        },
        [
            "mlflow-platform:ingress.values.controller.service.httpPort.nodePort",
            "30081",
            "ingress.http_node_port",
        ],
    ),
    (
        "local",
        {
            "ingress__controller": "f5-nginx",
            "ingress__values": {"controller": {"config": {"entries": {"hsts": "false"}}}},
        },
        ["mlflow-platform:ingress.values.controller.config.entries.hsts", "tls.hsts"],
    ),
    (
        "local",
        {"ingress__controller": "f5-nginx", "ingress__values": {"controller": {"replicaCount": 4}}},
        ["mlflow-platform:ingress.values.controller.replicaCount", "4", "ingress.replicas"],
    ),
    (
        "prod",
        {
            "ingress__controller": "f5-nginx",
            "auth__mode": "oidc",
            "auth__oidc": {
                "client_id": "c",
                "client_secret": "s",
                "allowed_email_domains": ["example.com"],
            },
        },
        [
            "mlflow-platform:auth.mode = 'oidc'",
            "mlflow-platform:ingress.controller = 'f5-nginx'",
            "auth-url",
            "allowed: auth.mode 'basic' with f5-nginx",
        ],
    ),
    # --- networks
    (
        "staging",
        {"network__subnet_cidr": "10.10.0.0"},
        ["mlflow-platform:network.subnet_cidr", "'10.10.0.0'", "no prefix length", "/32"],
    ),
    (
        "staging",
        {"network__pods_cidr": "10.16.0.1/14"},
        ["mlflow-platform:network.pods_cidr", "host bits", "10.16.0.0/14"],
    ),
    (
        "staging",
        {"network__subnet_cidr": "10.10.0.0/28"},
        ["mlflow-platform:network.subnet_cidr", "'10.10.0.0/28'", "too small", "/24 or larger"],
    ),
    (
        "staging",
        {"network__pods_cidr": "10.16.0.0/24"},
        ["mlflow-platform:network.pods_cidr", "too small", "/21 or larger"],
    ),
    (
        "staging",
        {"network__services_cidr": "10.20.0.0/28"},
        ["mlflow-platform:network.services_cidr", "too small", "/24 or larger"],
    ),
    (
        "staging",
        {"network__pods_cidr": "10.8.0.0/14"},
        ["mlflow-platform:network.pods_cidr", "overlaps subnet_cidr", "disjoint"],
    ),
    (
        "staging",
        {"cluster__master_ipv4_cidr": "10.10.0.16/28"},
        ["mlflow-platform:cluster.master_ipv4_cidr", "overlaps network.subnet_cidr", "/28 outside"],
    ),
    (
        "staging",
        {"cluster__master_ipv4_cidr": "10.20.0.0/28"},
        ["mlflow-platform:cluster.master_ipv4_cidr", "overlaps network.services_cidr"],
    ),
    (
        "staging",
        {"cluster__master_ipv4_cidr": "172.16.0.32"},
        ["mlflow-platform:cluster.master_ipv4_cidr", "no prefix length"],
    ),
    (
        "staging",
        {"cluster__master_authorized_networks": [{"name": "vpn", "cidr": "198.51.100.7"}]},
        ["mlflow-platform:cluster.master_authorized_networks.0.cidr", "no prefix length"],
    ),
    (
        "dev",
        {
            "database__authorized_networks": [
                {"name": "low", "cidr": "0.0.0.0/1"},
                {"name": "high", "cidr": "128.0.0.0/1"},
            ]
        },
        ["mlflow-platform:database.authorized_networks", "together they admit 0.0.0.0/0"],
    ),
    (
        "dev",
        {"database__authorized_networks": [{"name": "wide", "cidr": "64.0.0.0/4"}]},
        ["mlflow-platform:database.authorized_networks", "64.0.0.0/4", "/8 or smaller"],
    ),
    (
        "dev",
        {"database__authorized_networks": [{"name": "office", "cidr": "203.0.113.7"}]},
        ["mlflow-platform:database.authorized_networks.0.cidr", "no prefix length"],
    ),
    (
        "staging",
        {"database__authorized_networks": [{"name": "office", "cidr": "203.0.113.0/24"}]},
        ["mlflow-platform:database.authorized_networks", "private-IP instance ignores"],
    ),
    (
        "dev",
        {"database__authorized_networks": [{"name": "office", "cidr": "203.0.113.0/24", "x": 1}]},
        ["mlflow-platform:database.authorized_networks.0.x", "unknown key", "cidr, name"],
    ),
    # --- Kubernetes names and namespaces
    (
        "local",
        {"mlflow__namespace": "kube-system"},
        ["mlflow-platform:mlflow.namespace", "'kube-system'", "belongs to Kubernetes"],
    ),
    (
        "local",
        {"mlflow__namespace": "default"},
        ["mlflow-platform:mlflow.namespace", "'default'", "not default, kube-*"],
    ),
    (
        "staging",
        {"ingress__namespace": "gke-managed-system"},
        ["mlflow-platform:ingress.namespace", "'gke-managed-system'", "belongs to Kubernetes"],
    ),
    (
        "staging",
        {"mlflow__namespace": "ingress-nginx"},
        ["mlflow-platform:ingress.namespace", "already the namespace of mlflow.namespace"],
    ),
    (
        "local",
        {"ingress__namespace": "mlflow-db"},
        ["mlflow-platform:ingress.namespace", "'mlflow-db'", "the MLflow database"],
    ),
    (
        "local",
        {"mlflow__namespace": "m" * 62},
        ["mlflow-platform:mlflow.namespace", "-db", "not a DNS label", "at most 63"],
    ),
    (
        "local",
        {"mlflow__namespace": "MLflow"},
        ["mlflow-platform:mlflow.namespace", "'MLflow'", "lowercase letters, digits and hyphens"],
    ),
    (
        "local",
        {"database__user": "Admin"},
        ["mlflow-platform:database.user", "'Admin'", "lowercase letters"],
    ),
    (
        "local",
        {"cluster__profile": "my_profile"},
        ["mlflow-platform:cluster.profile", "'my_profile'", "hyphens"],
    ),
    (
        "prod",
        {"mlflow__tls_secret": "mlflow_tls", "tls__issuer": "none"},
        ["mlflow-platform:mlflow.tls_secret", "'mlflow_tls'", "Kubernetes object name"],
    ),
    # --- quantities
    (
        "local",
        {"mlflow__resources": {"memory_request": "768m"}},
        ["mlflow-platform:mlflow.resources.memory_request", "'768m'", "fraction of a byte"],
    ),
    (
        "local",
        {"mlflow__resources": {"cpu_request": "2", "cpu_limit": "1"}},
        ["mlflow-platform:mlflow.resources.cpu_request", "'2'", "above cpu_limit 1"],
    ),
    (
        "local",
        {"mlflow__resources": {"memory_request": "2Gi", "memory_limit": "1Gi"}},
        ["mlflow-platform:mlflow.resources.memory_request", "above memory_limit 1Gi"],
    ),
    (
        "local",
        {"mlflow__resources": {"cpu_limit": "0"}},
        ["mlflow-platform:mlflow.resources.cpu_limit", "'0'", "not positive"],
    ),
    (
        "local",
        {"mlflow__resources": {"cpu_request": "-1"}},
        ["mlflow-platform:mlflow.resources.cpu_request", "'-1'", "Kubernetes quantity"],
    ),
    (
        "local",
        {"database__storage_size": "5Gb"},
        ["mlflow-platform:database.storage_size", "'5Gb'", "number with an optional suffix"],
    ),
    (
        "local",
        {"database__storage_size": "1.5"},
        ["mlflow-platform:database.storage_size", "'1.5'", "fraction of a byte"],
    ),
    (
        "local",
        {"artifacts__size": "0"},
        ["mlflow-platform:artifacts.size", "'0'", "not positive"],
    ),
    (
        "local",
        {"artifacts__size": "500m"},
        ["mlflow-platform:artifacts.size", "'500m'", "m means milli"],
    ),
    (
        "local",
        {"ingress__proxy_body_size": "0"},
        ["mlflow-platform:ingress.proxy_body_size", "'0'", "no limit at all"],
    ),
    (
        "local",
        {"ingress__proxy_body_size": "5gb"},
        ["mlflow-platform:ingress.proxy_body_size", "'5gb'", "k, m or g"],
    ),
    # --- GCP names and labels, including the ones derived from project and stack
    (
        "dev",
        {"gcp__project": "My-Project"},
        ["mlflow-platform:gcp.project", "'My-Project'", "lowercase letters"],
    ),
    (
        "staging",
        {"cluster__name": "c" * 35},
        ["mlflow-platform:cluster.name", "GKE cluster name", "at most 40"],
    ),
    (
        "staging",
        {"network__name": LONG},
        ["mlflow-platform:network.name", "network name", "at most 63"],
    ),
    (
        "staging",
        {"database__instance_name": "i" * 63, "gcp__project": "p" * 30},
        ["mlflow-platform:database.instance_name", "Cloud SQL instance name prefix", "at most"],
    ),
    (
        "dev",
        {"artifacts__bucket_name": "goog-mlflow"},
        ["mlflow-platform:artifacts.bucket_name", "'goog-mlflow'", "reserved"],
    ),
    (
        "dev",
        {"artifacts__bucket_name": "team-google-artifacts"},
        ["mlflow-platform:artifacts.bucket_name", "reserved", "goog"],
    ),
    (
        "dev",
        {"artifacts__bucket_name": "192.168.5.4"},
        ["mlflow-platform:artifacts.bucket_name", "IP address"],
    ),
    (
        "dev",
        {"artifacts__bucket_name": "ab"},
        ["mlflow-platform:artifacts.bucket_name", "'ab'", "3 to 63"],
    ),
    (
        "dev",
        {"artifacts__bucket_name": "Bucket_Upper"},
        ["mlflow-platform:artifacts.bucket_name", "lowercase letters"],
    ),
    (
        "dev",
        {"gcp__labels": {"Team": "ml"}},
        ["mlflow-platform:gcp.labels", "label key 'Team'", "starting with a letter"],
    ),
    (
        "dev",
        {"gcp__labels": {"team": "ML Ops"}},
        ["mlflow-platform:gcp.labels", "team='ML Ops'", "lowercase"],
    ),
    (
        "dev",
        {"gcp__labels": {"k" * 64: "v"}},
        ["mlflow-platform:gcp.labels", "up to 63"],
    ),
    # --- hosts and files
    (
        "prod",
        {"mlflow__host": "https://mlflow.example.com"},
        ["mlflow-platform:mlflow.host", "https://", "no scheme or path"],
    ),
    (
        "prod",
        {"mlflow__host": "mlflow.example.com/ui"},
        ["mlflow-platform:mlflow.host", "no scheme or path"],
    ),
    (
        "prod",
        {"mlflow__host": "10.0.0.5"},
        ["mlflow-platform:mlflow.host", "'10.0.0.5'", "IP address"],
    ),
    (
        "prod",
        {"mlflow__host": "*.example.com"},
        ["mlflow-platform:mlflow.host", "wildcard"],
    ),
    (
        "prod",
        {"mlflow__host": "mlflow.example.com:8443"},
        ["mlflow-platform:mlflow.host", "without a port"],
    ),
    (
        "local",
        {"cluster": {"kind": "existing", "kubeconfig": "", "context": "c"}},
        ["mlflow-platform:cluster.kubeconfig", "''", "is empty"],
    ),
    (
        "local",
        {"cluster": {"kind": "existing", "kubeconfig": "   ", "context": "c"}},
        ["mlflow-platform:cluster.kubeconfig", "is empty"],
    ),
    (
        "local",
        {"ingress__chart": {"version": ""}},
        ["mlflow-platform:ingress.chart.version", "''", "is empty"],
    ),
    (
        "local",
        {"ingress__chart": {"path": "/no/such/chart"}},
        ["mlflow-platform:ingress.chart.path", "'/no/such/chart'", "no such file"],
    ),
    # --- strict types
    (
        "prod",
        {"mlflow__replicas": True},
        ["mlflow-platform:mlflow.replicas", "True", "boolean", "whole number"],
    ),
    ("local", {"cluster__cpus": True}, ["mlflow-platform:cluster.cpus", "boolean"]),
    (
        "local",
        {"ingress__http_node_port": False},
        ["mlflow-platform:ingress.http_node_port", "boolean"],
    ),
    ("dev", {"database__disk_size_gb": True}, ["mlflow-platform:database.disk_size_gb", "boolean"]),
    (
        "staging",
        {
            "database__backups": {
                "enabled": True,
                "point_in_time_recovery": False,
                "retained_backups": True,
            }
        },
        ["mlflow-platform:database.backups.retained_backups", "boolean"],
    ),
    (
        "dev",
        {"artifacts__force_destroy": 1},
        ["mlflow-platform:artifacts.force_destroy", "true or false"],
    ),
    (
        "dev",
        {"database__private_ip": "yes"},
        ["mlflow-platform:database.private_ip", "'yes'", "true or false"],
    ),
    ("local", {"ingress__enabled": 0}, ["mlflow-platform:ingress.enabled", "true or false"]),
    (
        "staging",
        {"cluster__deletion_protection": "no"},
        ["mlflow-platform:cluster.deletion_protection", "true or false"],
    ),
    (
        "staging",
        {"cluster__mode": "standard", "cluster__node_pool": {"spot": 1}},
        ["mlflow-platform:cluster.node_pool.spot", "true or false"],
    ),
    # --- settings the chosen mode ignores
    (
        "staging",
        {"cluster__node_pool": {"machine_type": "e2-standard-8"}},
        ["mlflow-platform:cluster.node_pool", "Autopilot manages its own nodes", "'standard'"],
    ),
    (
        "dev",
        {"mlflow__max_replicas": 4},
        ["mlflow-platform:mlflow.max_replicas", "4", "only to the autoscaler", "replicas > 1"],
    ),
    (
        "dev",
        {"mlflow__target_cpu_utilization": 50},
        ["mlflow-platform:mlflow.target_cpu_utilization", "50", "only to the autoscaler"],
    ),
    (
        "staging",
        {
            "cluster__private_nodes": False,
            "database__private_ip": False,
            "database__authorized_networks": [{"name": "o", "cidr": "203.0.113.0/24"}],
        },
        ["mlflow-platform:cluster.master_ipv4_cidr", "only with private_nodes=true"],
    ),
    (
        "staging",
        {"ingress__http_node_port": 30090},
        ["mlflow-platform:ingress.http_node_port", "30090", "LoadBalancer", "leave it out"],
    ),
    # --- the largest upload must fit the pod's ephemeral storage (/tmp spools it)
    (
        "staging",
        {"ingress__proxy_body_size": "9g"},
        ["mlflow-platform:ingress.proxy_body_size", "'9g'", "Autopilot's 10 GiB", "at most 8g"],
    ),
    (
        "staging",
        {
            "cluster__mode": "standard",
            "cluster__node_pool": {"disk_size_gb": 20},
            "ingress__proxy_body_size": "12g",
        },
        ["mlflow-platform:cluster.node_pool.disk_size_gb", "20", "more than half", "28 or more"],
    ),
    # --- secure exposure: a login, https, the address and the allowlist
    (
        "prod",
        {"ingress__allowed_source_ranges": ["203.0.113.7"]},
        ["mlflow-platform:ingress.allowed_source_ranges.0", "no prefix length"],
    ),
    (
        "local",
        {"ingress__allowed_source_ranges": ["203.0.113.0/24"]},
        ["mlflow-platform:ingress.allowed_source_ranges", "NodePort", "leave it out"],
    ),
    (
        "prod",
        {"tls__acme_email": "platform-team.example.com"},
        ["mlflow-platform:tls.acme_email", "'platform-team.example.com'", "an e-mail address"],
    ),
    (
        "staging",
        {"tls__acme_email": DELETE},
        ["mlflow-platform:tls.acme_email = None", "needs an e-mail", "Let's Encrypt"],
    ),
    (
        "prod",
        {"auth__enabled": False},
        ["mlflow-platform:auth.enabled = False in prod", "allowed: true"],
    ),
    (
        "dev",
        {"auth__enabled": False},
        ["mlflow-platform:auth.enabled = False in dev", "only local may turn it off"],
    ),
    (
        "prod",
        {"tls__issuer": "none"},
        ["mlflow-platform:tls.issuer = 'none' without mlflow.tls_secret in prod", "clear text"],
    ),
    (
        "prod",
        {"mlflow__tls_secret": "mine"},
        ["mlflow-platform:mlflow.tls_secret = 'mine'", "tls.issuer 'acme'", "issuer 'none'"],
    ),
    (
        "dev",
        {"tls__issuer": "acme", "tls__acme_email": "ops@example.com"},
        ["mlflow-platform:mlflow.host = 'mlflow.dev.local'", "public DNS name"],
    ),
    (
        "prod",
        {"auth__mode": "oidc"},
        ["mlflow-platform:auth.oidc = None", "needs the identity provider", "client_id"],
    ),
    (
        "prod",
        {
            "auth__mode": "oidc",
            "auth__oidc": {
                "client_id": "c",
                "client_secret": "s",
                "allowed_email_domains": ["@example.com"],
            },
        },
        ["mlflow-platform:auth.oidc.allowed_email_domains.0", "'@example.com'", "no @"],
    ),
    (
        "local",
        {
            "tls__issuer": "none",
            "auth__mode": "oidc",
            "auth__oidc": {
                "client_id": "c",
                "client_secret": "s",
                "allowed_email_domains": ["a.io"],
            },
        },
        ["mlflow-platform:auth.mode = 'oidc'", "cookies need https"],
    ),
    (
        "local",
        {"auth__default_permission": "WRITE"},
        ["mlflow-platform:auth.default_permission", "'WRITE'", "'READ'"],
    ),
    (
        "dev",
        {"auth__credential_cache_seconds": 3600},
        ["mlflow-platform:auth.credential_cache_seconds", "3600", "allowed: 300 or less"],
    ),
    (
        "local",
        {"dns__managed_zone": "example-com"},
        ["mlflow-platform:dns.managed_zone", "GKE stack", "leave it out"],
    ),
    # --- messages: a missing kind lists the kinds; cross-field rules name their field
    (
        "local",
        {"cluster": {"profile": "p"}},
        ["mlflow-platform:cluster.kind is required", "'minikube', 'gke', 'existing'"],
    ),
    (
        "local",
        {"database": {"storage_size": "1Gi"}},
        ["mlflow-platform:database.kind is required", "'cloudsql', 'in-cluster'"],
    ),
    (
        "local",
        {"artifacts": {}},
        ["mlflow-platform:artifacts.kind is required", "'gcs', 'volume'"],
    ),
    (
        "dev",
        {"database__authorized_networks": []},
        ["mlflow-platform:database.authorized_networks = []", "private_ip=false needs"],
    ),
    (
        "dev",
        {"database__tier": "db-perf-optimized-N-2"},
        ["mlflow-platform:database.tier = 'db-perf-optimized-N-2'", "ENTERPRISE_PLUS"],
    ),
    (
        "dev",
        {"database__backups": {"enabled": False, "point_in_time_recovery": True}},
        ["mlflow-platform:database.backups.point_in_time_recovery = True", "enabled=true"],
    ),
    (
        "dev",
        {"artifacts__import_existing": True},
        ["mlflow-platform:artifacts.bucket_name = None", "the bucket to adopt"],
    ),
]

# Metrics (who scrapes) and MLflow's log level.
BAD_INPUTS += [
    (
        "local",
        {"metrics__pod_monitoring": True},
        ["mlflow-platform:metrics.pod_monitoring = True", "minikube", "allowed: false"],
    ),
    (
        "dev",
        {"metrics__scrape_interval_seconds": 5},
        ["mlflow-platform:metrics.scrape_interval_seconds", "5", "allowed: 10 or more"],
    ),
    (
        "prod",
        {"metrics__scrape_interval_seconds": True},
        ["mlflow-platform:metrics.scrape_interval_seconds", "boolean", "whole number"],
    ),
    ("staging", {"metrics__service_monitor": "yes"}, ["metrics.service_monitor", "true or false"]),
    (
        "local",
        {"metrics__service_monitor_labels": {"bad key!": "x"}},
        ["mlflow-platform:metrics.service_monitor_labels.bad key!", "'x'", "Kubernetes label"],
    ),
    (
        "local",
        {"metrics__service_monitor_labels": {"release": "-prometheus"}},
        ["metrics.service_monitor_labels.release", "'-prometheus'", "Kubernetes label"],
    ),
    (
        "dev",
        {"metrics__prometheus_namespace": "Monitoring"},
        ["mlflow-platform:metrics.prometheus_namespace", "'Monitoring'", "lowercase"],
    ),
    ("dev", {"metrics__scrapers": ["x"]}, ["metrics.scrapers", "unknown key", "service_monitor"]),
    (
        "local",
        {"mlflow__log_level": "verbose"},
        ["mlflow-platform:mlflow.log_level", "'verbose'", "DEBUG, INFO, WARNING, ERROR, CRITICAL"],
    ),
    ("prod", {"mlflow__log_level": 10}, ["mlflow-platform:mlflow.log_level", "10", "INFO"]),
    (
        "dev",
        {"mlflow__extra_env": {"MLFLOW_LOGGING_LEVEL": "DEBUG"}},
        ["mlflow.extra_env.MLFLOW_LOGGING_LEVEL", "mlflow.log_level"],
    ),
    (
        "dev",
        {"mlflow__extra_env": {"PROMETHEUS_MULTIPROC_DIR": "/tmp"}},
        ["mlflow.extra_env.PROMETHEUS_MULTIPROC_DIR", "the platform"],
    ),
    (
        "dev",
        {"mlflow__extra_args": ["--expose-prometheus", "/tmp/m"]},
        ["mlflow.extra_args = '--expose-prometheus'", "sidecar"],
    ),
    (
        "staging",
        {"ingress__values": {"controller": {"metrics": {"serviceMonitor": {"enabled": True}}}}},
        ["ingress.values.controller.metrics.serviceMonitor.enabled", "metrics.service_monitor"],
    ),
    (
        "prod",
        {"ingress__values": {"controller": {"metrics": {"enabled": False}}}},
        ["ingress.values.controller.metrics.enabled", "False", "scrape objects"],
    ),
]

# A stack named prod (or prod-*) gets prod's rules whatever its `environment` says, and the names
# GCP would get are derived from the stack's name: (stack name, config from, overrides, fragments)
NAMED_STACKS: list[Case] = [
    (
        "prod",
        "dev",
        {"cluster": {"kind": "minikube"}},
        ["mlflow-platform:database.private_ip", "stack 'prod' is a prod stack", "allowed: True"],
    ),
    (
        "prod-eu",
        "staging",
        {},
        ["mlflow-platform:database.availability_type", "stack 'prod-eu'", "'REGIONAL'"],
    ),
    (
        "production",
        "local",
        {},
        ["mlflow-platform:database.kind", "'in-cluster'", "stack 'production'", "'cloudsql'"],
    ),
    (
        "Staging_EU",
        "staging",
        {},
        ["mlflow-platform:network.name with stack 'Staging_EU'", "'mlflow-Staging_EU'"],
    ),
    (
        "staging-for-the-machine-learning-platform-team-in-europe",
        "dev",
        {},
        ["mlflow-platform:artifacts.bucket_name with stack", "3 to 63"],
    ),
    (
        "abcdefghijklmnopqrstuv-wxyz",
        "staging",
        {},
        [
            "mlflow-platform:cluster with stack",
            "service account id 'mlflow-abcdefghijklmnopqrstuv-'",
        ],
    ),
]


def _config(stack: str, overrides: dict[str, object]) -> dict[str, object]:
    return with_overrides(stack_config(stack), **overrides)


def _parse(config: dict[str, object], stack: str) -> PlatformConfig:
    """What the program does with the config the engine hands it (secrets decrypted and named)
    and with `config` as the stack file."""
    return parse_engine_config(
        engine_config(config), stack, engine_secret_keys(config), stack_file=config
    )


def _refused(config: dict[str, object], stack: str, fragments: list[str]) -> list[str]:
    with pytest.raises(ConfigError) as excinfo:
        _parse(config, stack)
    problems = excinfo.value.problems
    assert any(all(f in line for f in fragments) for line in problems), (
        f"no problem line contains all of {fragments}: {problems}"
    )
    return problems


@pytest.mark.parametrize(
    ("stack", "overrides", "fragments"),
    BAD_INPUTS,
    ids=[f"{s}-{'+'.join(o)}" for s, o, _ in BAD_INPUTS],
)
def test_bad_input_is_named_with_value_and_allowed(
    stack: str, overrides: dict[str, object], fragments: list[str]
) -> None:
    _refused(_config(stack, overrides), stack, fragments)


@pytest.mark.parametrize(
    ("stack", "config_from", "overrides", "fragments"),
    SECURE_CASES,
    ids=[f"{n}-{'+'.join(o)}" for n, _, o, _ in SECURE_CASES],
)
def test_unsafe_or_unworkable_config_is_refused(
    stack: str, config_from: str, overrides: dict[str, object], fragments: list[str]
) -> None:
    _refused(_config(config_from, overrides), stack, fragments)


@pytest.mark.parametrize(
    ("stack", "config_from", "overrides", "fragments"),
    NAMED_STACKS,
    ids=[name for name, *_ in NAMED_STACKS],
)
def test_stack_name_brings_prod_rules_and_derived_names(
    stack: str, config_from: str, overrides: dict[str, object], fragments: list[str]
) -> None:
    _refused(_config(config_from, overrides), stack, fragments)


EVERY_CASE = [(s, s, o, f) for s, o, f in BAD_INPUTS] + NAMED_STACKS + SECURE_CASES


def test_there_are_at_least_250_bad_config_cases() -> None:
    assert len(EVERY_CASE) >= 250


@pytest.mark.parametrize(
    ("stack", "config_from", "overrides", "fragments"),
    EVERY_CASE,
    ids=[f"{n}-{'+'.join(o) or 'as-is'}" for n, _, o, _ in EVERY_CASE],
)
def test_bad_input_registers_nothing(
    stack: str, config_from: str, overrides: dict[str, object], fragments: list[str]
) -> None:
    """The program fails before its first resource: the engine sees only the stack itself."""
    capture = Capture()
    with pytest.raises(ConfigError) as excinfo:
        run_stack(stack, _config(config_from, overrides), capture=capture)
    assert any(all(f in line for f in fragments) for line in excinfo.value.problems)
    assert {r.type for r in capture.registrations} <= {"pulumi:pulumi:Stack"}


# What Kubernetes and GCP accept must be accepted too.
ACCEPTED: list[Accepted] = [
    ("local", {"database__storage_size": "5G"}),
    ("local", {"artifacts__size": "1.5Gi"}),
    ("local", {"mlflow__resources": {"cpu_request": "0.5", "memory_limit": "2e9"}}),
    ("local", {"ingress__proxy_body_size": "5G"}),
    ("local", {"ingress__proxy_body_size": "512m"}),
    ("prod", {"mlflow__tls_secret": "mlflow.example.com-tls", "tls__issuer": "none"}),
    ("dev", {"artifacts__bucket_name": "mlflow.artifacts.example"}),
    ("dev", {"gcp__labels": {"team": "ml-ops", "cost_center": ""}}),
    ("staging", {"cluster__mode": "standard", "cluster__node_pool": {"spot": True}}),
    (
        "staging",
        {
            "ingress__service_type": "NodePort",
            "ingress__http_node_port": 30090,
            "cluster__private_nodes": False,
            "cluster__master_ipv4_cidr": DELETE,
        },
    ),
    ("local", {"auth__enabled": False}),
    ("prod", {"ingress__allowed_source_ranges": ["203.0.113.0/24", "198.51.100.0/24"]}),
    ("prod", {"dns__managed_zone": "example-com", "dns__project": "my-dns-project"}),
    ("prod", {"mlflow__max_replicas": 8, "mlflow__target_cpu_utilization": 60}),
    ("dev", {"database__private_ip": "false"}),
    ("local", {"mlflow__log_level": "debug"}),
    ("staging", {"metrics__pod_monitoring": False, "metrics__service_monitor": True}),
    ("dev", {"metrics__service_monitor_labels": {"release": "kube-prometheus-stack"}}),
    # An existing cluster may be GKE with Google Managed Prometheus.
    (
        "dev",
        {
            "cluster": {"kind": "existing", "context": "gke_p_r_c", "kubeconfig": KUBECONFIG},
            "metrics__pod_monitoring": True,
        },
    ),
    ("prod", {"ingress__controller": "f5-nginx"}),
    # An ingress-nginx key the schema owns there means nothing to F5's chart: not owned with it.
    (
        "local",
        {
            "ingress__controller": "f5-nginx",
            "ingress__values": {"controller": {"service": {"nodePorts": {"http": 30081}}}},
        },
    ),
]


ACCEPTED += SECURE_ACCEPTED


@pytest.mark.parametrize(("stack", "overrides"), ACCEPTED, ids=[str(o) for _, o in ACCEPTED])
def test_what_the_platforms_accept_is_accepted(stack: str, overrides: dict[str, object]) -> None:
    _parse(_config(stack, overrides), stack)


def test_all_problems_are_reported_at_once() -> None:
    config = _config("local", {"cluster__cpus": 1, "mlflow__workers": 0, "extra": 1})
    with pytest.raises(ConfigError) as excinfo:
        parse_config(project_config(config))
    assert len(excinfo.value.problems) == 3
    assert str(excinfo.value).startswith("invalid stack configuration:")


@pytest.mark.parametrize("stack", ["local", "dev", "staging", "prod"])
def test_shipped_stacks_are_valid(stack: str) -> None:
    cfg = parse_config(project_config(stack_config(stack)))
    assert cfg.environment == stack


def test_environment_defaults_fill_what_the_stack_leaves_out() -> None:
    minimal = {
        "environment": "prod",
        "gcp": {"project": "proj-123", "region": "us-east1"},
        "network": {},
        "cluster": {"kind": "gke"},
        "database": {"kind": "cloudsql"},
        "artifacts": {"kind": "gcs"},
        "mlflow": {"host": "mlflow.example.com"},
        "tls": {"acme_email": "ops@example.com"},  # prod serves https: Let's Encrypt by default
    }
    cfg = parse_config(minimal)
    assert cfg.database.kind == "cloudsql"
    assert cfg.database.availability_type == "REGIONAL"
    assert cfg.database.deletion_protection and cfg.database.private_ip
    assert cfg.database.backups.point_in_time_recovery
    assert cfg.mlflow.replicas == 2 and cfg.ingress.replicas == 2
    assert cfg.artifacts.kind == "gcs" and cfg.artifacts.protect and not cfg.artifacts.force_destroy
    assert cfg.auth.enabled and cfg.auth.mode == "basic" and cfg.auth.default_permission == "READ"
    assert cfg.tls.issuer == "acme" and cfg.tls.hsts
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


def test_engine_strings_are_coerced_like_the_cli_passes_them() -> None:
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
def test_password_rotation_takes_a_number_as_its_text(kind: str) -> None:
    # `pulumi config set --path database.password_rotation 2` stores the number 2.
    config = stack_config("local" if kind == "in-cluster" else "dev")
    config["mlflow-platform:database"] = {
        **config["mlflow-platform:database"],
        "password_rotation": 2,
    }
    database = parse_config(project_config(engine_config(config))).database
    assert database.password_rotation == "2"


# What no message may show: pydantic's phrasing, a regular expression, a class name.
LIBRARY_WORDING = (
    "Input should",
    "Input tag",
    "String should",
    "Field required",
    "Value error",
    "validation error",
    "instance of",
    "pydantic",
    "type=",
    "pattern",
    "{...}",
    "[^",
    "]+",
    "[0-9]",
    "(?",
    "\\.",
    "^",
)


def _class_names() -> set[str]:
    import components.config as schema

    return {name for name in dir(schema) if name[:1].isupper() and name not in ("REQUIRED",)}


def _wording_problems(lines: list[str]) -> list[str]:
    names = re.compile(r"\b(" + "|".join(_class_names() - {"ENVIRONMENTS", "PROJECT"}) + r")\b")
    return [
        line
        for line in lines
        if any(fragment in line for fragment in LIBRARY_WORDING) or names.search(line)
    ]


def test_no_refusal_shows_library_wording_a_regex_or_a_class_name() -> None:
    lines = []
    for stack, config_from, overrides, _ in EVERY_CASE:
        with pytest.raises(ConfigError) as excinfo:
            _parse(_config(config_from, overrides), stack)
        lines += excinfo.value.problems
    assert len(lines) >= len(EVERY_CASE)
    assert _wording_problems(lines) == []


def _leaves(value: object, path: str = "") -> list[str]:
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in _leaves(v, f"{path}__{k}" if path else k)]
    return [path]


WRONG_VALUES = (["x"], {"k": 1}, "%bad%", -1, 2.5)


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_a_wrong_value_anywhere_gets_a_clean_message(stack: str) -> None:
    """Every key of the stack (defaults included) set to values of the wrong shape: each is
    refused with the key named and in the schema's own words, never a raw error."""
    dumped = _parse(stack_config(stack), stack).model_dump(mode="json")
    leaves = [p for p in _leaves(dumped) if p not in ("environment",) and "__kind" not in p]
    assert len(leaves) > 60
    unclean = []
    for path, wrong in ((p, w) for p in leaves for w in WRONG_VALUES):
        try:
            _parse(_config(stack, {path: wrong}), stack)
        except ConfigError as error:
            unclean += _wording_problems(error.problems)
            unclean += [line for line in error.problems if not line.startswith("mlflow-platform:")]
    assert unclean == []
