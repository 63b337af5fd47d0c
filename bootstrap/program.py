"""The bootstrap program: federation, state, keys, then one CI identity per purpose and stack."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from bootstrap.ci_account import CiServiceAccount, CiServiceAccountArgs
from bootstrap.config import NAMESPACE, BootstrapConfig, parse
from bootstrap.federation import GitHubFederation, GitHubFederationArgs
from bootstrap.identities import ci_identities, stacks
from bootstrap.state import StackSecretsKeys, StackSecretsKeysArgs, StateBucket, StateBucketArgs

CONFIG_KEYS = ("project", "location", "state_bucket", "github", "stack_projects")


def _value(config: pulumi.Config, key: str) -> Any:
    """A string as it is; an object (set with --path) as the JSON the CLI hands over."""
    text = config.get(key)
    if text is not None and text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def load() -> BootstrapConfig:
    config = pulumi.Config(NAMESPACE)
    return parse({key: _value(config, key) for key in CONFIG_KEYS})


def run() -> None:
    cfg = load()
    federation = GitHubFederation(
        "github",
        GitHubFederationArgs(cfg.project, cfg.github.repository_id, cfg.github.repository_owner_id),
    )
    state = StateBucket("state", StateBucketArgs(cfg.project, cfg.location, cfg.state_bucket))
    keys = StackSecretsKeys("secrets", StackSecretsKeysArgs(cfg.project, cfg.location, stacks()))
    accounts = {
        identity.environment: CiServiceAccount(
            identity.account_id,
            CiServiceAccountArgs(
                identity=identity,
                ci_project=cfg.project,
                stack_project=cfg.stack_projects[identity.stack],
                repository=cfg.github.repository,
                pool_name=federation.pool_name,
                state_bucket=state.bucket_name,
                secrets_key_id=keys.keys[identity.stack].id,
            ),
        )
        for identity in ci_identities()
    }
    pulumi.export("workload_identity_provider", federation.provider_name)
    pulumi.export("backend_url", state.backend_url)
    pulumi.export("secrets_providers", keys.secrets_providers)
    pulumi.export("service_accounts", {env: acc.email for env, acc in accounts.items()})
