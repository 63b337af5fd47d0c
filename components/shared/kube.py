"""Small builders for the Kubernetes fields every workload here repeats, secure by default."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

PART_OF = "mlflow-platform"


def labels(name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def metadata(
    name: str | None,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    annotations: dict[str, pulumi.Input[str]] | None = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(
        name=name, namespace=namespace, labels=labels, annotations=annotations
    )


def namespace(
    resource_name: str,
    name: str,
    labels: dict[str, str],
    parent: pulumi.Resource,
    pod_security: Literal["restricted", "baseline"] = "restricted",
) -> k8s.core.v1.Namespace:
    """A namespace whose Pod Security Admission level is enforced (restricted unless a
    third-party workload needs baseline)."""
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            labels={**labels, "pod-security.kubernetes.io/enforce": pod_security},
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def chart_source(path: str | None, name: str, version: str, repository: str) -> dict[str, Any]:
    """Helm Release arguments: a local chart (air-gapped) or the pinned chart from its repo
    (an index at https://..., or an OCI registry at oci://...)."""
    if path:
        return {"chart": path}
    if repository.startswith("oci://"):
        # An OCI registry has no index to name the chart in: the chart's reference is its URL.
        return {"chart": f"{repository.rstrip('/')}/{name}", "version": version}
    return {
        "chart": name,
        "version": version,
        "repository_opts": k8s.helm.v3.RepositoryOptsArgs(repo=repository),
    }


def pod_template(
    labels: dict[str, str], uid: int, containers: list[k8s.core.v1.ContainerArgs], **spec: Any
) -> k8s.core.v1.PodTemplateSpecArgs:
    """Pods that run as `uid`, get no service account token, and carry `labels`."""
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
        spec=k8s.core.v1.PodSpecArgs(
            automount_service_account_token=False,
            security_context=pod_security_context(uid),
            containers=containers,
            **spec,
        ),
    )


def ingress_spec(
    host: str,
    path: str,
    service: pulumi.Input[str],
    ingress_class: str,
    tls_secret: str | None,
) -> k8s.networking.v1.IngressSpecArgs:
    """One host, `path` and below to the Service's `http` port, TLS when a Secret is named."""
    backend = k8s.networking.v1.IngressBackendArgs(
        service=k8s.networking.v1.IngressServiceBackendArgs(
            name=service, port=k8s.networking.v1.ServiceBackendPortArgs(name="http")
        )
    )
    return k8s.networking.v1.IngressSpecArgs(
        ingress_class_name=ingress_class,
        tls=(
            [k8s.networking.v1.IngressTLSArgs(hosts=[host], secret_name=tls_secret)]
            if tls_secret
            else None
        ),
        rules=[
            k8s.networking.v1.IngressRuleArgs(
                host=host,
                http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                    paths=[
                        k8s.networking.v1.HTTPIngressPathArgs(
                            path=path, path_type="Prefix", backend=backend
                        )
                    ]
                ),
            )
        ],
    )


def pod_security_context(uid: int) -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        fs_group=uid,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security_context(uid: int | None = None) -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        run_as_user=uid,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def resources(
    cpu_request: str,
    memory_request: str,
    cpu_limit: str,
    memory_limit: str,
    ephemeral_storage: str | None = None,
) -> k8s.core.v1.ResourceRequirementsArgs:
    """Requests and limits; `ephemeral_storage` (requested and capped alike) when given."""
    disk = {"ephemeral-storage": ephemeral_storage} if ephemeral_storage else {}
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": cpu_request, "memory": memory_request, **disk},
        limits={"cpu": cpu_limit, "memory": memory_limit, **disk},
    )


def exec_probe(command: list[str], period: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        exec_=k8s.core.v1.ExecActionArgs(command=command),
        period_seconds=period,
        timeout_seconds=5,
        failure_threshold=6,
    )


def http_probe(path: str, port: str, period: int, failure_threshold: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=port),
        period_seconds=period,
        timeout_seconds=5,
        failure_threshold=failure_threshold,
    )


def secret_env(name: str, secret_name: pulumi.Input[str], key: str) -> k8s.core.v1.EnvVarArgs:
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret_name, key=key)
        ),
    )


def empty_dir(name: str, size_limit: str | None = None) -> k8s.core.v1.VolumeArgs:
    return k8s.core.v1.VolumeArgs(
        name=name, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=size_limit)
    )


def claim_spec(
    size: str, storage_class: str | None, access_mode: str = "ReadWriteOnce"
) -> k8s.core.v1.PersistentVolumeClaimSpecArgs:
    return k8s.core.v1.PersistentVolumeClaimSpecArgs(
        access_modes=[access_mode],
        storage_class_name=storage_class,
        resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": size}),
    )


def cluster_ip_service(
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    port_name: str,
    port: int,
    target_port: int | str,
    opts: pulumi.ResourceOptions,
    more_ports: Sequence[k8s.core.v1.ServicePortArgs] = (),
) -> k8s.core.v1.Service:
    """A ClusterIP Service with a TCP port (and `more_ports`) in front of the pods that carry
    `labels`."""
    return k8s.core.v1.Service(
        name,
        metadata=metadata(name, namespace, labels),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=labels,
            ports=[
                k8s.core.v1.ServicePortArgs(name=port_name, port=port, target_port=target_port),
                *more_ports,
            ],
        ),
        opts=opts,
    )


def allow_ingress_only_from(
    name: str,
    namespace: pulumi.Input[str],
    pod_labels: dict[str, str],
    from_namespace: str,
    port: int,
    opts: pulumi.ResourceOptions,
    also_from_pods: dict[str, str] | None = None,
) -> k8s.networking.v1.NetworkPolicy:
    """Admit traffic to these pods on `port` from one namespace only (and, with
    `also_from_pods`, from the pods with those labels in their own namespace); egress stays
    open."""
    peers = [
        k8s.networking.v1.NetworkPolicyPeerArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                match_labels={"kubernetes.io/metadata.name": from_namespace}
            ),
        )
    ]
    if also_from_pods:
        peers.append(
            k8s.networking.v1.NetworkPolicyPeerArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=also_from_pods)
            )
        )
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=metadata(name, namespace, pod_labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pod_labels),
            policy_types=["Ingress"],
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=peers,
                    ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol="TCP")],
                )
            ],
        ),
        opts=opts,
    )


# The IngressClass both controllers register and every Ingress here names.
INGRESS_CLASS = "nginx"
