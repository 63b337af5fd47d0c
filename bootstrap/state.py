"""Where stacks keep their state and the keys that encrypt their secrets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from bootstrap.identities import KEY_RING, secrets_provider
from components.shared.base import Component

# Rotate the key-encryption key every 90 days; old versions still decrypt what they encrypted.
ROTATION_PERIOD = "7776000s"


@dataclass(frozen=True)
class StateBucketArgs:
    project: str
    location: str
    name: str


class StateBucket(Component):
    """The self-managed backend: private, versioned (every state file recoverable), protected."""

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    backend_url: pulumi.Output[str]
    """`gs://<bucket>`: the PULUMI_BACKEND_URL of every stack."""

    def __init__(
        self, name: str, args: StateBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        self.bucket = gcp.storage.Bucket(
            name,
            project=args.project,
            name=args.name,
            location=args.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            force_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.bucket_name = self.bucket.name
        self.backend_url = self.bucket.name.apply(lambda bucket: f"gs://{bucket}")
        self.register_declared_outputs()


@dataclass(frozen=True)
class StackSecretsKeysArgs:
    project: str
    location: str
    stacks: Sequence[str]


class StackSecretsKeys(Component):
    """One key ring and one key per stack: each stack's secrets provider. Keys cannot be
    deleted without losing every secret they encrypted, so all of it is protected."""

    secrets_providers: pulumi.Output[dict[str, str]]
    """stack -> `gcpkms://...` for `pulumi stack change-secrets-provider`."""

    def __init__(
        self, name: str, args: StackSecretsKeysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        protected = pulumi.ResourceOptions(parent=self, protect=True)
        self.key_ring = gcp.kms.KeyRing(
            name, project=args.project, location=args.location, name=KEY_RING, opts=protected
        )
        self.keys = {
            stack: gcp.kms.CryptoKey(
                f"{name}-{stack}",
                name=stack,
                key_ring=self.key_ring.id,
                rotation_period=ROTATION_PERIOD,
                opts=protected,
            )
            for stack in args.stacks
        }
        self.secrets_providers = pulumi.Output.from_input(
            {stack: secrets_provider(args.project, args.location, stack) for stack in args.stacks}
        )
        self.register_declared_outputs()
