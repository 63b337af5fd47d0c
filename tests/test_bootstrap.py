"""bootstrap/: the CI trust chain under mocks. Every identity is admitted from one GitHub
environment only, holds only its purpose's roles on its own stack's project, state and key."""

from __future__ import annotations

import ast
import inspect
import re
from types import ModuleType
from typing import Any

import pytest
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi_policy import EnforcementLevel

from bootstrap import ci_account, federation, identities, state
from bootstrap.config import BootstrapConfigError
from bootstrap.identities import CiIdentity, ci_identities
from bootstrap.program import run
from components.shared.base import Component, declared_outputs, type_token
from policy.bootstrap import (
    BOOTSTRAP_POLICIES,
    BOOTSTRAP_RULES,
    identity_is_one_environment,
    key_is_protected,
    no_basic_roles,
    provider_pins_the_repository,
)
from policy.rules import POLICIES
from tests.harness import (
    ROOT,
    Capture,
    PlatformMocks,
    Registration,
    run_stack,
    run_under_mocks,
    unwrap_secrets,
)

NUMBER = "123456789012"
POOL = f"projects/{NUMBER}/locations/global/workloadIdentityPools/github"
CONFIG: dict[str, Any] = {
    "mlflow-platform-bootstrap:project": "mlflow-ci",
    "mlflow-platform-bootstrap:location": "europe-west1",
    "mlflow-platform-bootstrap:state_bucket": "mlflow-pulumi-state",
    "mlflow-platform-bootstrap:github": {
        "repository": "octo/mlflow-platform",
        "repository_id": 700123,
        "repository_owner_id": "4567",
    },
    "mlflow-platform-bootstrap:stack_projects": {
        "dev": "my-mlflow-dev",
        "staging": "my-mlflow-staging",
        "prod": "my-mlflow-prod",
    },
}
WRITE_ROLES = {"roles/owner", "roles/editor"} | set(identities.DEPLOY_ROLES)


class BootstrapMocks(PlatformMocks):
    """Names as Google returns them: the pool under its project number, keys under their ring."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = unwrap_secrets(args.inputs)
        if args.typ == "gcp:iam/workloadIdentityPool:WorkloadIdentityPool":
            return args.name, {**args.inputs, "name": POOL}
        if args.typ == "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider":
            provider = f"{POOL}/providers/{inputs['workloadIdentityPoolProviderId']}"
            return args.name, {**args.inputs, "name": provider}
        if args.typ == "gcp:kms/keyRing:KeyRing":
            ring = f"projects/{inputs['project']}/locations/{inputs['location']}/keyRings/pulumi"
            return ring, {**args.inputs}
        if args.typ == "gcp:kms/cryptoKey:CryptoKey":
            return f"{inputs['keyRing']}/cryptoKeys/{inputs['name']}", {**args.inputs}
        return super().new_resource(args)


@pytest.fixture(scope="module")
def capture() -> Capture:
    return run_under_mocks(run, CONFIG, stack="ci", mocks=BootstrapMocks())


def _children(capture: Capture, identity: CiIdentity, type_: str) -> list[Registration]:
    component = capture.one("mlflow-platform:ci_account:CiServiceAccount", identity.account_id)
    return [r for r in capture.of_type(type_) if r.parent == component.urn]


def test_seven_identities_one_per_purpose_and_stack() -> None:
    environments = sorted(i.environment for i in ci_identities())
    assert environments == sorted(
        [
            "preview-dev",
            "preview-staging",
            "preview-prod",
            "staging",
            "prod",
            "destroy-dev",
            "destroy-staging",
        ]
    )
    assert all(len(i.account_id) <= 30 for i in ci_identities())


@pytest.mark.parametrize("identity", ci_identities(), ids=lambda i: i.environment)
def test_each_identity_is_bound_to_its_environment_subject_only(
    capture: Capture, identity: CiIdentity
) -> None:
    (binding,) = _children(capture, identity, "gcp:serviceaccount/iAMMember:IAMMember")
    subject = f"repo:octo/mlflow-platform:environment:{identity.environment}"
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert binding.inputs["member"] == f"principal://iam.googleapis.com/{POOL}/subject/{subject}"
    everything = [r.inputs.get("member", "") for r in capture.registrations if r.custom]
    assert not any(str(m).startswith("principalSet://") for m in everything)


@pytest.mark.parametrize("identity", ci_identities(), ids=lambda i: i.environment)
def test_each_identity_holds_its_purposes_roles_on_its_stacks_project(
    capture: Capture, identity: CiIdentity
) -> None:
    grants = _children(capture, identity, "gcp:projects/iAMMember:IAMMember")
    project = CONFIG["mlflow-platform-bootstrap:stack_projects"][identity.stack]
    assert {g.inputs["project"] for g in grants} == {project}
    unconditioned = {g.inputs["role"] for g in grants if "condition" not in g.inputs}
    assert unconditioned == set(identity.roles)
    conditioned = [g for g in grants if "condition" in g.inputs]
    if identity.purpose == "preview":
        assert not conditioned and not unconditioned & WRITE_ROLES
        return
    (iam_admin,) = conditioned
    assert iam_admin.inputs["role"] == "roles/resourcemanager.projectIamAdmin"
    expression = iam_admin.inputs["condition"]["expression"]
    assert "modifiedGrantsByRole" in expression and ".hasOnly([" in expression
    assert "roles/owner" not in expression and "roles/cloudsql.client" in expression


@pytest.mark.parametrize("identity", ci_identities(), ids=lambda i: i.environment)
def test_each_identity_reaches_only_its_stacks_state_and_key(
    capture: Capture, identity: CiIdentity
) -> None:
    (state_grant,) = _children(capture, identity, "gcp:storage/bucketIAMMember:BucketIAMMember")
    expected = "roles/storage.objectViewer" if identity.purpose == "preview" else "objectUser"
    assert state_grant.inputs["role"].endswith(expected)
    expression = state_grant.inputs["condition"]["expression"]
    stacks = set(re.findall(r"/stacks/mlflow-platform/([a-z]+)\.json", expression))
    assert stacks == {identity.stack}
    assert f"/locks/mlflow-platform/{identity.stack}/" in expression
    (key_grant,) = _children(capture, identity, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert key_grant.inputs["cryptoKeyId"].endswith(f"/cryptoKeys/{identity.stack}")
    decrypt_only = identity.purpose == "preview"
    assert key_grant.inputs["role"] == (
        "roles/cloudkms.cryptoKeyDecrypter"
        if decrypt_only
        else "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    )


def test_each_key_is_decryptable_only_by_its_stacks_identities(capture: Capture) -> None:
    grants = capture.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    by_key: dict[str, set[str]] = {}
    for grant in grants:
        key = grant.inputs["cryptoKeyId"].rsplit("/", 1)[-1]
        by_key.setdefault(key, set()).add(grant.inputs["member"])
    for stack, members in by_key.items():
        own = {
            f"serviceAccount:{i.account_id}@mlflow-ci.iam.gserviceaccount.com"
            for i in ci_identities()
            if i.stack == stack
        }
        assert members == own, stack
    assert set(by_key) == {"dev", "staging", "prod"}


def test_the_provider_admits_this_repository_and_prod_only_from_protected_release_refs(
    capture: Capture,
) -> None:
    provider = capture.one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    condition = provider.inputs["attributeCondition"]
    assert 'assertion.repository_id == "700123"' in condition
    assert 'assertion.repository_owner_id == "4567"' in condition
    assert '!(assertion.environment == "prod")' in condition
    assert 'assertion.ref_protected == "true"' in condition
    assert 'assertion.ref == "refs/heads/main"' in condition
    assert 'assertion.ref.startsWith("refs/tags/v")' in condition
    assert provider.inputs["attributeMapping"]["google.subject"] == "assertion.sub"
    assert provider.inputs["oidc"]["issuerUri"] == "https://token.actions.githubusercontent.com"


def test_state_bucket_and_keys_are_private_versioned_and_protected(capture: Capture) -> None:
    bucket = capture.one("gcp:storage/bucket:Bucket")
    assert bucket.protect
    assert bucket.inputs["versioning"] == {"enabled": True}
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["forceDestroy"] is False
    keys = capture.of_type("gcp:kms/cryptoKey:CryptoKey")
    assert sorted(k.inputs["name"] for k in keys) == ["dev", "prod", "staging"]
    assert all(k.protect and k.inputs["rotationPeriod"] == "7776000s" for k in keys)
    assert capture.one("gcp:kms/keyRing:KeyRing").protect


def test_outputs_are_what_the_workflows_and_stacks_need(capture: Capture) -> None:
    outputs = {name: value for name, (value, _) in capture.outputs.items()}
    assert outputs["workload_identity_provider"] == f"{POOL}/providers/github-actions"
    assert outputs["backend_url"] == "gs://mlflow-pulumi-state"
    assert outputs["secrets_providers"]["prod"] == (
        "gcpkms://projects/mlflow-ci/locations/europe-west1/keyRings/pulumi/cryptoKeys/prod"
    )
    assert set(outputs["service_accounts"]) == {i.environment for i in ci_identities()}


def _workflow(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))
    return data


def test_identities_match_the_workflows_stacks_and_environments() -> None:
    destroy = _workflow("destroy.yml")
    deploy = _workflow("deploy.yml")
    assert (
        tuple(destroy["on"]["workflow_dispatch"]["inputs"]["stack"]["options"])
        == identities.DISPOSABLE_STACKS
    )
    assert "prod" not in identities.DISPOSABLE_STACKS
    assert (
        tuple(deploy["on"]["workflow_dispatch"]["inputs"]["stack"]["options"])
        == identities.DEPLOY_STACKS
    )
    assert '["dev","staging","prod"]' in (ROOT / ".github/workflows/preview.yml").read_text()
    assert destroy["jobs"]["destroy"]["environment"] == "destroy-${{ inputs.stack }}"
    assert _workflow("preview.yml")["jobs"]["preview"]["environment"] == (
        "preview-${{ matrix.stack }}"
    )


def test_bad_config_fails_before_anything_is_registered() -> None:
    bad = {
        **CONFIG,
        "mlflow-platform-bootstrap:github": {"repository": "octo", "repository_id": "abc"},
    }
    captured = Capture()
    with pytest.raises(Exception) as error:
        run_under_mocks(run, bad, stack="ci", capture=captured, mocks=BootstrapMocks())
    message = str(error.value)
    assert "mlflow-platform-bootstrap:github.repository = 'octo': OWNER/REPO" in message
    assert "github.repository_id = 'abc'" in message
    assert "github.repository_owner_id = None" in message
    assert "Traceback" not in message
    assert [r.type for r in captured.registrations if r.custom] == []
    with pytest.raises(BootstrapConfigError):
        from bootstrap.config import parse

        parse({})


@pytest.mark.parametrize("module", [federation, ci_account, state])
def test_bootstrap_components_follow_the_components_style(module: ModuleType) -> None:
    classes = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Component) and cls.__module__ == module.__name__
    ]
    assert classes
    for cls in classes:
        assert type_token(cls) == f"mlflow-platform:{module.__name__.split('.')[-1]}:{cls.__name__}"
        assert declared_outputs(cls)
        tree = ast.parse(inspect.getsource(cls))
        init = next(
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "__init__"
        )
        assert ast.unparse(init.body[-1]) == "self.register_declared_outputs()"


# --- policy/bootstrap.py: the same guarantees as guardrails --------------------------------


def _violations(capture: Capture) -> list[str]:
    found = []
    for reg in capture.registrations:
        for rule in BOOTSTRAP_RULES:
            if reg.type in rule.resource_types:
                found += [f"{rule.name}: {m}" for m in rule.check(reg.inputs, reg.protect)]
    return found


def test_the_bootstrap_and_every_platform_stack_pass_the_bootstrap_rules(capture: Capture) -> None:
    assert _violations(capture) == []
    for stack in ("dev", "staging", "prod"):
        assert _violations(run_stack(stack)) == [], stack


def test_the_bootstrap_rules_are_mandatory_in_the_pack() -> None:
    names = {p.name: p for p in BOOTSTRAP_POLICIES}
    assert set(names) == {rule.name for rule in BOOTSTRAP_RULES}
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in names.values())
    assert not set(names) & {p.name for p in POLICIES}, "policy names must be unique in the pack"
    assert "BOOTSTRAP_POLICIES" in (ROOT / "policy" / "__main__.py").read_text()


def test_a_loose_trust_chain_is_refused(capture: Capture) -> None:
    provider = capture.one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    loose = {**provider.inputs, "attributeCondition": 'assertion.repository == "octo/x"'}
    assert provider_pins_the_repository(loose, False)
    pool_wide = f"principalSet://iam.googleapis.com/{POOL}/*"
    branch = f"principal://iam.googleapis.com/{POOL}/subject/repo:octo/x:ref:refs/heads/main"
    for member in (pool_wide, branch):
        props = {"role": "roles/iam.workloadIdentityUser", "member": member}
        assert identity_is_one_environment(props, False), member
    assert no_basic_roles({"role": "roles/editor", "member": "user:a@b.c"}, False)
    key = capture.of_type("gcp:kms/cryptoKey:CryptoKey")[0]
    assert key_is_protected(key.inputs, False) and not key_is_protected(key.inputs, True)


def test_the_docs_table_lists_every_identity_with_its_environment_and_roles() -> None:
    docs = (ROOT / "docs" / "delivery.md").read_text()
    assert "docs/delivery.md" in (ROOT / "README.md").read_text()
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in docs.splitlines()
        if line.startswith("| `ci-")
    }
    assert set(rows) == {i.account_id for i in ci_identities()}
    for identity in ci_identities():
        row = rows[identity.account_id]
        assert f"`{identity.environment}`" in row
        assert identity.kms_role.removeprefix("roles/") in row
    for role in identities.DEPLOY_ROLES + identities.PREVIEW_ROLES:
        assert f"`{role.removeprefix('roles/')}`" in docs, role
