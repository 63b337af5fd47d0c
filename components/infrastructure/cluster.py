"""Kubernetes clusters: minikube on a laptop, or one that already exists (GKE: gke.py).

Every cluster component exposes the same two things the rest of the platform needs:
`provider` (a Kubernetes provider bound to that cluster) and `kubeconfig` (a secret).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from components.config import (
    MinikubeClusterConfig,
    default_of,
)
from components.shared.base import Component


class KubernetesCluster(Component):
    """What every cluster kind provides to the workloads deployed onto it."""

    provider: k8s.Provider
    kind: str
    kubeconfig: pulumi.Output[str]
    """Credentials for the cluster (a secret)."""


def cluster_provider(
    name: str, kubeconfig: pulumi.Input[str], parent: pulumi.Resource, context: str | None = None
) -> k8s.Provider:
    return k8s.Provider(
        f"{name}-k8s",
        kubeconfig=kubeconfig,
        context=context,
        # Server-side apply lets Pulumi and in-cluster controllers share field ownership.
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )


# --- minikube ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinikubeClusterArgs:
    profile: str
    """The minikube profile, also the kubeconfig context's name (`cluster.profile`)."""
    kubernetes_version: str
    """The Kubernetes version minikube starts (`cluster.kubernetes_version`)."""
    cpus: int = default_of(MinikubeClusterConfig, "cpus")
    """CPUs of the minikube node (`cluster.cpus`)."""
    memory_mb: int = default_of(MinikubeClusterConfig, "memory_mb")
    """Memory of the minikube node, in MiB (`cluster.memory_mb`)."""
    driver: str = default_of(MinikubeClusterConfig, "driver")
    """The minikube driver, such as docker or kvm2 (`cluster.driver`)."""
    addons: list[str] = field(default_factory=list)
    """minikube addons to enable, e.g. gcp-auth (`cluster.addons`); empty: minikube's defaults."""
    gcp_auth_credentials: pulumi.Input[str] | None = None
    """The credential file the gcp-auth addon mounts into the pods (LaptopIdentity's), given to
    `minikube start` as GOOGLE_APPLICATION_CREDENTIALS; None: the start inherits that variable
    (the addon itself is enabled by `addons`)."""


def minikube_start_command(args: MinikubeClusterArgs) -> str:
    return " ".join(
        [
            f"minikube start -p {shlex.quote(args.profile)}",
            f"--kubernetes-version={shlex.quote(args.kubernetes_version)}",
            f"--cpus={args.cpus}",
            f"--memory={args.memory_mb}",
            f"--driver={shlex.quote(args.driver)}",
            *(f"--addons={shlex.quote(addon)}" for addon in args.addons),
            "--wait=all",
        ]
    )


def minikube_refusal(profile: str) -> str:
    """What a changed start command says instead of touching the profile."""
    # minikube cannot resize, upgrade or re-drive an existing profile, and replacing it would
    # empty the cluster under objects Pulumi still records (create-before-delete would even
    # delete the profile just "started").
    message = (
        f"the minikube profile {profile} exists and minikube cannot change its version, "
        "size, driver or addons in place: destroy the stack and bring it up again "
        "(make destroy STACK=<stack> && make up STACK=<stack>)"
    )
    return f"echo {shlex.quote(message)} >&2; exit 1"


class MinikubeCluster(KubernetesCluster):
    """A minikube profile that `pulumi up` starts and `pulumi destroy` deletes."""

    node_ip: pulumi.Output[str]
    """The node's address (what /etc/hosts needs for the ingress host)."""

    def __init__(
        self, name: str, args: MinikubeClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts, former_types=["mlflow-platform:cluster:Minikube"])
        self.kind = "minikube"
        profile = shlex.quote(args.profile)
        credentials = args.gcp_auth_credentials
        self.machine = command.local.Command(
            f"{name}-minikube",
            create=minikube_start_command(args),
            # gcp-auth mounts this file into every pod, never the developer's own credential.
            environment={"GOOGLE_APPLICATION_CREDENTIALS": credentials} if credentials else None,
            update=minikube_refusal(args.profile),
            delete=f"minikube delete -p {profile}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.kubeconfig = pulumi.Output.secret(
            self._query(
                f"{name}-kubeconfig",
                f"minikube -p {profile} kubectl -- config view "
                f"--raw --flatten --minify --context={profile}",
                secret=True,
            )
        )
        self.node_ip = self._query(f"{name}-ip", f"minikube -p {profile} ip")
        self.provider = cluster_provider(name, self.kubeconfig, self, context=args.profile)
        self.register_declared_outputs()

    def _query(self, name: str, create: str, secret: bool = False) -> pulumi.Output[str]:
        """The stdout of a command run once the profile is up (again after it is re-created)."""
        return command.local.Command(
            name,
            create=create,
            triggers=[self.machine.id],
            logging=command.local.Logging.NONE if secret else None,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.machine],
                additional_secret_outputs=["stdout"] if secret else None,
            ),
        ).stdout


# --- existing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExistingClusterArgs:
    kubeconfig_path: str
    """The kubeconfig file (`cluster.kubeconfig`, `~` expanded), read when the program runs."""
    context: str
    """The kubeconfig context to deploy into (`cluster.context`)."""


class ExistingCluster(KubernetesCluster):
    """A cluster someone else runs; we only deploy into the given kubeconfig context."""

    def __init__(
        self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts, former_types=["mlflow-platform:cluster:Existing"])
        self.kind = "existing"
        path = Path(args.kubeconfig_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"mlflow-platform:cluster.kubeconfig = {args.kubeconfig_path!r}: no such file; "
                "allowed: the path of a readable kubeconfig"
            )
        self.kubeconfig = pulumi.Output.secret(path.read_text())
        self.provider = cluster_provider(name, self.kubeconfig, self, context=args.context)
        self.register_declared_outputs()
