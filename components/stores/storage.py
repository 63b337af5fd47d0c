"""MLflow's artifact store: a GCS bucket, or a PersistentVolumeClaim on a laptop cluster."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.config import GcsArtifactsConfig, VolumeArtifactsConfig, default_of, defaults_from
from components.shared import kube
from components.shared.base import Component

ARTIFACT_PREFIX = "mlflow-artifacts"


_gcs = defaults_from(GcsArtifactsConfig)


@dataclass(frozen=True)
class GcsArtifactStoreArgs:
    project: str
    """The GCP project of the bucket (`gcp.project`)."""
    location: str
    """The bucket's location (`artifacts.location`, else the region in capitals)."""
    bucket_name: str
    """The bucket's name (`artifacts.bucket_name`, else `<project>-mlflow-<stack>`)."""
    force_destroy: bool
    """Destroy deletes the objects too (`artifacts.force_destroy`); never an adopted bucket's."""
    protect: bool
    """Pulumi refuses to delete the bucket (`artifacts.protect`); an adopted one always."""
    storage_class: str = _gcs("storage_class")
    """STANDARD, NEARLINE, COLDLINE or ARCHIVE (`artifacts.storage_class`)."""
    noncurrent_version_retention_days: int = _gcs("noncurrent_version_retention_days")
    """Days an overwritten or deleted object's old version is kept before it is deleted
    (`artifacts.noncurrent_version_retention_days`)."""
    labels: dict[str, str] = field(default_factory=dict)
    """GCP labels on the bucket (the platform's: app, environment and `gcp.labels`)."""
    import_existing: bool = False
    """Adopt the existing bucket `bucket_name` (Pulumi import) instead of creating it
    (`artifacts.import_existing`). An adopted bucket holds someone's data: it is always
    protected and never emptied by destroy."""

    @property
    def protected(self) -> bool:
        return self.protect or self.import_existing

    @property
    def emptied_on_destroy(self) -> bool:
        return self.force_destroy and not self.import_existing


class GcsArtifactStore(Component):
    """A private, versioned bucket; MLflow writes under `gs://<bucket>/mlflow-artifacts`."""

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    bucket_url: pulumi.Output[str]
    """`gs://<bucket>`."""
    artifacts_destination: pulumi.Output[str]
    """Where MLflow writes artifacts: `gs://<bucket>/mlflow-artifacts`."""

    def __init__(
        self, name: str, args: GcsArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        self.bucket = gcp.storage.Bucket(
            name,
            project=args.project,
            name=args.bucket_name,
            location=args.location,
            storage_class=args.storage_class,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            lifecycle_rules=[
                gcp.storage.BucketLifecycleRuleArgs(
                    action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                        days_since_noncurrent_time=args.noncurrent_version_retention_days,
                        with_state="ARCHIVED",
                    ),
                )
            ],
            force_destroy=args.emptied_on_destroy,
            labels=args.labels,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protected,
                import_=args.bucket_name if args.import_existing else None,
            ),
        )
        self.bucket_name = self.bucket.name
        self.bucket_url = self.bucket.url
        self.artifacts_destination = pulumi.Output.concat(self.bucket.url, "/", ARTIFACT_PREFIX)
        self.register_declared_outputs()


@dataclass(frozen=True)
class VolumeArtifactStoreArgs:
    namespace: pulumi.Input[str]
    """The claim's namespace: the MLflow server's, whose pods mount it."""
    size: str = default_of(VolumeArtifactsConfig, "size")
    """The claim's size, a Kubernetes quantity (`artifacts.size`)."""
    storage_class: str | None = default_of(VolumeArtifactsConfig, "storage_class")
    """The claim's StorageClass (`artifacts.storage_class`); None: the cluster's default."""
    access_mode: str = default_of(VolumeArtifactsConfig, "access_mode")
    """ReadWriteOnce, or ReadWriteMany so that several pods share it (`artifacts.access_mode`)."""


class VolumeArtifactStore(Component):
    """A PersistentVolumeClaim that the MLflow pod mounts and serves as proxied artifacts."""

    claim_name: pulumi.Output[str]
    """The PersistentVolumeClaim's name."""
    artifacts_destination: pulumi.Output[str]
    """Where MLflow writes artifacts: the claim's mount path."""

    MOUNT_PATH = "/mlartifacts"

    def __init__(
        self, name: str, args: VolumeArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        self.claim = k8s.core.v1.PersistentVolumeClaim(
            name,
            metadata=kube.metadata(
                name,
                args.namespace,
                kube.labels("mlflow", "artifacts"),
                # With WaitForFirstConsumer storage classes the claim binds only once the MLflow
                # pod is scheduled, which happens after this resource: do not wait for Bound.
                annotations={"pulumi.com/skipAwait": "true"},
            ),
            spec=kube.claim_spec(args.size, args.storage_class, args.access_mode),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.claim_name = self.claim.metadata.name
        self.artifacts_destination = pulumi.Output.from_input(self.MOUNT_PATH)
        self.register_declared_outputs()
