"""Read-only previews on GKE: the stack's preview identity may dry-run writes, never persist one.

pulumi-kubernetes previews by server-side apply with `dryRun=All`: the API server runs
admission and returns the object it would store, so the diff is exact, but RBAC checks the
write verbs (create, patch) as for a real write. Kubernetes RBAC cannot say "dry run only", so
the verbs come from a ClusterRole and a ValidatingAdmissionPolicy refuses every create or update
by that identity that is not a dry run. Nothing persists, and the preview stays server-side (a
client-side diff would miss defaults, webhooks and conflicts the real `up` meets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.shared import kube
from components.shared.base import Component

NAME = "pulumi-preview-dry-run"
# The kinds the program applies itself, cluster-wide. Not Secrets: a dry-run patch answers with
# the stored object, so Secrets are granted only where the program's own live (PreviewAccessArgs).
DRY_RUN_RESOURCES: dict[str, tuple[str, ...]] = {
    "": ("namespaces", "configmaps", "services", "serviceaccounts"),
    "apps": ("deployments",),
    "autoscaling": ("horizontalpodautoscalers",),
    "batch": ("jobs", "cronjobs"),
    "policy": ("poddisruptionbudgets",),
    "networking.k8s.io": ("ingresses", "networkpolicies"),
    "cert-manager.io": ("certificates", "clusterissuers"),
    "monitoring.googleapis.com": ("podmonitorings",),
}
WRITE_VERBS = ("create", "update", "patch")
READ_VERBS = ("get", "list", "watch")


def only_dry_runs(identity: str) -> k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgs:
    """Every create or update by `identity`, of any resource, must be a dry run."""
    return k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgs(
        failure_policy="Fail",
        match_constraints=k8s.admissionregistration.v1.MatchResourcesArgs(
            resource_rules=[
                k8s.admissionregistration.v1.NamedRuleWithOperationsArgs(
                    api_groups=["*"],
                    api_versions=["*"],
                    operations=["CREATE", "UPDATE", "DELETE", "CONNECT"],
                    resources=["*", "*/*"],
                )
            ]
        ),
        match_conditions=[
            k8s.admissionregistration.v1.MatchConditionArgs(
                name="preview-identity",
                expression=f"request.userInfo.username == {identity!r}",
            )
        ],
        validations=[
            k8s.admissionregistration.v1.ValidationArgs(
                expression="request.dryRun == true",
                message=f"{identity} previews only: it may dry-run, never write",
            )
        ],
    )


@dataclass(frozen=True)
class PreviewAccessArgs:
    identity: str
    """The service account (e-mail) this stack's previews run as (`cluster.preview_identity`)."""
    secret_namespaces: Sequence[pulumi.Input[str]] = ()
    """Where the program's own Secrets live, which it may dry-run: their values are in the
    stack's state, which the preview identity decrypts anyway, so a dry run there reveals nothing
    new (the platform's: MLflow's namespace)."""
    # Off by default: those namespaces also hold cert-manager's and the controller's keys.
    release_namespaces: Sequence[pulumi.Input[str]] = ()
    """Where it may read (get, list) Secrets: Helm's release records, should a chart's preview
    need them; the platform passes none."""


class PreviewAccess(Component):
    """The preview identity's rights in the cluster: read, and write only as a dry run."""

    policy_name: pulumi.Output[str]
    """The ValidatingAdmissionPolicy that refuses the identity's real writes."""

    def __init__(
        self, name: str, args: PreviewAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = kube.labels(NAME, "ci")
        meta = k8s.meta.v1.ObjectMetaArgs(name=NAME, labels=labels)
        # The policy first: the verbs are granted only once real writes are refused.
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            name, metadata=meta, spec=only_dry_runs(args.identity), opts=child
        )
        binding = k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            name,
            metadata=meta,
            spec=k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecArgs(
                policy_name=policy.metadata.name, validation_actions=["Deny"]
            ),
            opts=child,
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[policy, binding])
        subject = k8s.rbac.v1.SubjectArgs(
            kind="User", name=args.identity, api_group="rbac.authorization.k8s.io"
        )
        role = k8s.rbac.v1.ClusterRole(
            name,
            metadata=meta,
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[group], resources=list(resources), verbs=[*READ_VERBS, *WRITE_VERBS]
                )
                for group, resources in DRY_RUN_RESOURCES.items()
            ],
            opts=after,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            name,
            metadata=meta,
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role.metadata.name
            ),
            subjects=[subject],
            opts=after,
        )
        self._namespaced(
            f"{name}-secrets", args.secret_namespaces, subject, [*READ_VERBS, *WRITE_VERBS], after
        )
        self._namespaced(
            f"{name}-releases", args.release_namespaces, subject, ["get", "list"], after
        )
        self.policy_name = policy.metadata.name
        self.register_declared_outputs()

    def _namespaced(
        self,
        name: str,
        namespaces: Sequence[pulumi.Input[str]],
        subject: k8s.rbac.v1.SubjectArgs,
        verbs: list[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        """`verbs` on Secrets in each of `namespaces`, for the preview identity."""
        for i, namespace in enumerate(namespaces):
            meta = kube.metadata(NAME, namespace, kube.labels(NAME, "ci"))
            role = k8s.rbac.v1.Role(
                f"{name}-{i}",
                metadata=meta,
                rules=[
                    k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["secrets"], verbs=verbs)
                ],
                opts=opts,
            )
            k8s.rbac.v1.RoleBinding(
                f"{name}-{i}",
                metadata=meta,
                role_ref=k8s.rbac.v1.RoleRefArgs(
                    api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name
                ),
                subjects=[subject],
                opts=opts,
            )
