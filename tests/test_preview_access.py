"""Read-only previews on GKE: the preview identity may dry-run what the program applies, and an
admission policy refuses any of its writes that is not a dry run."""

from __future__ import annotations

import pytest

from components.infrastructure.preview_access import DRY_RUN_RESOURCES, NAME, WRITE_VERBS
from tests.harness import Capture, run_stack, stack_config, with_overrides

IDENTITY = "ci-preview-prod@mlflow-ci.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def prod() -> Capture:
    return run_stack(
        "prod", with_overrides(stack_config("prod"), cluster__preview_identity=IDENTITY)
    )


def test_without_a_preview_identity_nothing_is_added() -> None:
    capture = run_stack("prod")
    assert not capture.of_type("mlflow-platform:preview_access:PreviewAccess")


def test_real_writes_by_the_preview_identity_are_refused(prod: Capture) -> None:
    policy = prod.one("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy")
    spec = policy.inputs["spec"]
    assert spec["failurePolicy"] == "Fail"
    (condition,) = spec["matchConditions"]
    assert condition["expression"] == f"request.userInfo.username == '{IDENTITY}'"
    (validation,) = spec["validations"]
    assert validation["expression"] == "request.dryRun == true"
    (rule,) = spec["matchConstraints"]["resourceRules"]
    assert rule["apiGroups"] == ["*"] and set(rule["resources"]) == {"*", "*/*"}
    assert {"CREATE", "UPDATE"} <= set(rule["operations"])
    binding = prod.one(
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
    )
    assert binding.inputs["spec"] == {"policyName": NAME, "validationActions": ["Deny"]}


def test_the_write_verbs_come_only_after_the_policy_and_never_for_secrets_cluster_wide(
    prod: Capture,
) -> None:
    role = prod.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
    policy = prod.one("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy")
    binding = prod.one(
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
    )
    assert prod.depends_on(role, policy) and prod.depends_on(role, binding)
    granted = {
        (g, r)
        for rule in role.inputs["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
    }
    assert ("", "secrets") not in granted
    assert granted == {(g, r) for g, rs in DRY_RUN_RESOURCES.items() for r in rs}
    assert all(set(WRITE_VERBS) <= set(rule["verbs"]) for rule in role.inputs["rules"])
    assert not any(
        "delete" in rule["verbs"] or "*" in rule["verbs"] for rule in role.inputs["rules"]
    )
    subjects = prod.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").inputs[
        "subjects"
    ]
    assert subjects == [{"kind": "User", "name": IDENTITY, "apiGroup": "rbac.authorization.k8s.io"}]


def test_secrets_only_in_the_mlflow_namespace(prod: Capture) -> None:
    (role,) = prod.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    namespace = prod.one("kubernetes:core/v1:Namespace", "mlflow").inputs["metadata"]["name"]
    assert role.inputs["metadata"]["namespace"] == namespace
    assert role.inputs["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "verbs": ["get", "list", "watch", "create", "update", "patch"],
        }
    ]


def test_the_preview_identity_is_a_service_account_email() -> None:
    from components.config.section import ConfigError
    from tests.harness import run_stack as run

    bad = with_overrides(stack_config("prod"), cluster__preview_identity="someone@example.com")
    with pytest.raises(ConfigError) as error:
        run("prod", bad)
    message = str(error.value)
    assert "mlflow-platform:cluster.preview_identity = 'someone@example.com'" in message
    assert "a service account e-mail" in message
