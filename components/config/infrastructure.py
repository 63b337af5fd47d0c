"""Where the platform runs: the GCP project, its VPC and the Kubernetes cluster."""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from components import versions
from components.config.section import AuthorizedNetwork, EnvDefaults, Section
from components.config.values import Cidr, DnsLabel, GcpProject, GcpRegion


class GcpConfig(Section):
    project: GcpProject = Field(description="GCP project id.")
    region: GcpRegion = Field(description="Region for the cluster, database and bucket.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Labels on every GCP resource."
    )


class NetworkConfig(Section):
    """The VPC for GKE and private-IP Cloud SQL."""

    create: bool = Field(True, description="Create the VPC and subnet; false uses `name` as is.")
    name: DnsLabel = Field("mlflow", description="VPC (and subnet) name.")
    subnet_cidr: Cidr = Field("10.10.0.0/20", description="Primary range of the subnet (nodes).")
    pods_cidr: Cidr = Field("10.16.0.0/14", description="Secondary range for Pods.")
    services_cidr: Cidr = Field("10.20.0.0/20", description="Secondary range for Services.")

    @model_validator(mode="after")
    def _ranges_do_not_overlap(self) -> NetworkConfig:
        ranges = {
            "subnet_cidr": self.subnet_cidr,
            "pods_cidr": self.pods_cidr,
            "services_cidr": self.services_cidr,
        }
        items = list(ranges.items())
        for i, (key_a, cidr_a) in enumerate(items):
            for key_b, cidr_b in items[i + 1 :]:
                if ipaddress.IPv4Network(cidr_a).overlaps(ipaddress.IPv4Network(cidr_b)):
                    raise ValueError(
                        f"{key_a} {cidr_a} overlaps {key_b} {cidr_b}; allowed: disjoint ranges"
                    )
        return self


class MinikubeClusterConfig(Section):
    kind: Literal["minikube"]
    profile: DnsLabel = Field(description="minikube profile (and kubeconfig context) name.")
    kubernetes_version: str = Field(
        versions.MINIKUBE_KUBERNETES_VERSION,
        pattern=r"^v1\.[0-9]+\.[0-9]+$",
        description="Kubernetes version minikube starts.",
    )
    cpus: int = Field(2, ge=2, le=64, description="CPUs for the minikube node.")
    memory_mb: int = Field(4096, ge=2048, le=262144, description="Memory (MiB) for the node.")
    driver: Literal["docker", "podman", "kvm2", "qemu2", "hyperkit", "virtualbox", "vfkit"] = Field(
        "docker", description="minikube driver."
    )
    addons: list[DnsLabel] = Field(
        default_factory=list,
        description="minikube addons, e.g. gcp-auth to reach GCS and Cloud SQL.",
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "profile": {
            "local": "mlflow-local",
            "dev": "mlflow-dev",
            "staging": "mlflow-staging",
            "prod": "mlflow-prod",
        },
    }


class GkeNodePoolConfig(Section):
    machine_type: str = Field("e2-standard-4", description="Node machine type (Standard mode).")
    min_nodes: int = Field(1, ge=0, le=100, description="Autoscaling minimum per zone.")
    max_nodes: int = Field(3, ge=1, le=100, description="Autoscaling maximum per zone.")
    disk_size_gb: int = Field(50, ge=20, le=2000, description="Boot disk size.")
    spot: bool = Field(False, description="Use Spot VMs (cheap, preemptible).")

    @model_validator(mode="after")
    def _min_not_above_max(self) -> GkeNodePoolConfig:
        if self.min_nodes > self.max_nodes:
            raise ValueError(
                f"min_nodes {self.min_nodes} > max_nodes {self.max_nodes}; allowed: min <= max"
            )
        return self


class GkeClusterConfig(Section):
    kind: Literal["gke"]
    name: DnsLabel = Field("mlflow", description="Cluster name prefix.")
    mode: Literal["autopilot", "standard"] = Field("autopilot", description="GKE mode.")
    kubernetes_version: str = Field(
        versions.KUBERNETES_VERSION,
        pattern=r"^1\.[0-9]+(\.[0-9]+(-gke\.[0-9]+)?)?$",
        description="Minimum master version (release channel upgrades from there).",
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = Field(
        "REGULAR", description="GKE release channel."
    )
    private_nodes: bool = Field(description="Nodes get no public IPs.")
    master_ipv4_cidr: Cidr = Field(
        "172.16.0.32/28", description="/28 for the control plane when nodes are private."
    )
    master_authorized_networks: list[AuthorizedNetwork] = Field(
        default_factory=list,
        description="Who may reach the control plane (empty: anyone, with auth).",
    )
    deletion_protection: bool = Field(description="Refuse to delete the cluster.")
    node_pool: GkeNodePoolConfig = Field(
        default_factory=dict,
        validate_default=True,
        description="Own node pool (Standard mode only).",
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "private_nodes": {"staging": True, "prod": True, "dev": False, "local": False},
        "deletion_protection": {"prod": True, "staging": False, "dev": False, "local": False},
    }

    @model_validator(mode="after")
    def _control_plane_range(self) -> GkeClusterConfig:
        if self.private_nodes and ipaddress.IPv4Network(self.master_ipv4_cidr).prefixlen != 28:
            raise ValueError(
                f"master_ipv4_cidr {self.master_ipv4_cidr} must be a /28 when private_nodes is true"
            )
        return self


class ExistingClusterConfig(Section):
    kind: Literal["existing"]
    kubeconfig: str = Field("~/.kube/config", description="Path to the kubeconfig file.")
    context: str = Field(min_length=1, description="kubeconfig context to deploy into.")
    kubernetes_version: str = Field(
        versions.KUBERNETES_VERSION,
        pattern=r"^1\.[0-9]+$",
        description="Kubernetes minor of that cluster (for manifest validation).",
    )


ClusterConfig = Annotated[
    MinikubeClusterConfig | GkeClusterConfig | ExistingClusterConfig, Field(discriminator="kind")
]
