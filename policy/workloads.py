"""Pods that could take the node: privileged, host namespaces, host paths, added capabilities,
privilege escalation, root; and LoadBalancer Services open to every address."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy.networks import too_wide

Props = Mapping[str, Any]

# Pod Security Standards (restricted) allow adding this one capability only.
ALLOWED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def _get(props: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(props, Mapping):
            return None
        props = props.get(key)
    return props


def pod_spec(props: Props) -> Props | None:
    """A workload's pod spec: a CronJob's (job template), a Deployment's or Job's, a Pod's."""
    spec = (
        _get(props, "spec", "jobTemplate", "spec", "template", "spec")
        or _get(props, "spec", "template", "spec")
        or _get(props, "spec")
    )
    return spec if isinstance(spec, Mapping) else None


def _all_containers(pod: Props) -> Iterator[Props]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        yield from pod.get(field) or []


def _container_privileges(container: Props) -> list[str]:
    name = container.get("name", "?")
    context = container.get("securityContext") or {}
    problems = []
    if context.get("privileged") is True:
        problems.append(f"container {name!r} is privileged")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append(f"container {name!r} must set allowPrivilegeEscalation: false")
    added = set(_get(context, "capabilities", "add") or []) - ALLOWED_CAPABILITIES
    if added:
        problems.append(f"container {name!r} adds capabilities {sorted(added)}")
    if context.get("runAsUser") == 0:
        problems.append(f"container {name!r} runs as user 0 (root)")
    return problems


def workloads_have_no_host_access(props: Props, protected: bool) -> list[str]:
    pod = pod_spec(props)
    if pod is None:
        return []
    problems = [
        f"the pod shares the node's {ns[4:]} namespace ({ns})"
        for ns in HOST_NAMESPACES
        if pod.get(ns) is True
    ]
    problems += [
        f"volume {v.get('name')!r} mounts the node's {v['hostPath'].get('path')!r} (hostPath)"
        for v in pod.get("volumes") or []
        if isinstance(v.get("hostPath"), Mapping)
    ]
    if _get(pod, "securityContext", "runAsUser") == 0:
        problems.append("the pod runs as user 0 (root)")
    for container in _all_containers(pod):
        problems += _container_privileges(container)
    return problems


def load_balancers_have_source_ranges(props: Props, protected: bool) -> list[str]:
    """A LoadBalancer Service, or an ingress controller chart's (`controller.service`)."""
    service = (
        _get(props, "spec") if "spec" in props else _get(props, "values", "controller", "service")
    )
    if not isinstance(service, Mapping) or service.get("type") != "LoadBalancer":
        return []
    ranges = service.get("loadBalancerSourceRanges") or []
    if not ranges:
        return ["a LoadBalancer with no loadBalancerSourceRanges admits every address"]
    wide = too_wide(ranges)
    return [f"loadBalancerSourceRanges {wide}"] if wide else []
