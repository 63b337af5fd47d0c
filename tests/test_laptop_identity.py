"""dev on minikube: the gcp-auth addon hands the pods an impersonated credential of a
least-privilege service account, not the developer's own (issue #21 point 5). Under mocks:
pulumi-gcp and minikube cannot run here."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any, cast

import pytest

from components.infrastructure.laptop_identity import credentials_file
from infra import impersonation
from tests.harness import MOCK_DEVELOPER, Capture

COMMAND = "command:local:Command"
SA = "mlflow-dev@my-mlflow-dev.iam.gserviceaccount.com"


def test_the_pods_act_as_a_service_account_that_may_use_the_bucket_and_the_database(
    stacks: dict[str, Capture],
) -> None:
    capture = stacks["dev"]
    (account,) = capture.of_type("gcp:serviceaccount/account:Account")
    assert account.inputs["accountId"] == "mlflow-dev"
    bucket = capture.one("gcp:storage/bucketIAMMember:BucketIAMMember").inputs
    assert (bucket["role"], bucket["member"]) == (
        "roles/storage.objectAdmin",
        f"serviceAccount:{SA}",
    )
    assert bucket["bucket"] == capture.one("gcp:storage/bucket:Bucket").inputs["name"]
    project_roles = {
        (r.inputs["role"], r.inputs["member"])
        for r in capture.of_type("gcp:projects/iAMMember:IAMMember")
    }
    assert project_roles == {("roles/cloudsql.client", f"serviceAccount:{SA}")}
    (developer,) = capture.of_type("gcp:serviceaccount/iAMMember:IAMMember")
    assert developer.inputs["role"] == "roles/iam.serviceAccountTokenCreator"
    assert developer.inputs["member"] == f"user:{MOCK_DEVELOPER}"


def test_gcp_auth_starts_with_the_impersonated_credential_not_the_developers(
    stacks: dict[str, Capture],
) -> None:
    """Before: `minikube start --addons=gcp-auth` with the developer's application-default
    credential, which the addon mounts into every pod. After: the addon's
    GOOGLE_APPLICATION_CREDENTIALS is the impersonated file, written before minikube starts and
    after every grant."""
    capture = stacks["dev"]
    machine = capture.one(COMMAND, "mlflow-cluster-minikube")
    assert "--addons=gcp-auth" in machine.inputs["create"]
    path = credentials_file("dev")
    assert path.endswith("/.config/mlflow-platform/dev-gcp-auth.json")
    assert machine.inputs["environment"] == {"GOOGLE_APPLICATION_CREDENTIALS": path}
    writer = capture.one(COMMAND, "mlflow-laptop-identity-credentials")
    assert writer.inputs["create"] == f"{sys.executable} -m infra.impersonation {SA} {path}"
    assert writer.inputs["logging"] == "none" and writer.inputs["delete"] == f"rm -f {path}"
    assert capture.depends_on(machine, writer)
    for grant in (
        capture.one("gcp:storage/bucketIAMMember:BucketIAMMember"),
        capture.one("gcp:projects/iAMMember:IAMMember"),
        capture.one("gcp:serviceaccount/iAMMember:IAMMember"),
    ):
        assert capture.depends_on(writer, grant), grant.name
    deployment = capture.one("kubernetes:apps/v1:Deployment", "mlflow")
    assert capture.depends_on(deployment, writer)


def test_without_gcp_auth_nothing_is_minted(stacks: dict[str, Capture]) -> None:
    capture = stacks["local"]
    assert not capture.of_type("gcp:serviceaccount/account:Account")
    assert "environment" not in capture.one(COMMAND, "mlflow-cluster-minikube").inputs


def _write(tmp_path: Path, source: dict[str, Any]) -> dict[str, Any]:
    adc = tmp_path / "adc.json"
    adc.write_text(json.dumps(source))
    output = tmp_path / "out" / "dev-gcp-auth.json"
    impersonation.write(SA, output, adc)
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert stat.S_IMODE(output.parent.stat().st_mode) == 0o700
    return cast(dict[str, Any], json.loads(output.read_text()))


USER = {"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}


def test_the_written_credential_impersonates_the_service_account(tmp_path: Path) -> None:
    written = _write(tmp_path, USER)
    assert written == {
        "type": "impersonated_service_account",
        "service_account_impersonation_url": (
            "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
            f"{SA}:generateAccessToken"
        ),
        "delegates": [],
        "source_credentials": USER,
    }


def test_an_already_impersonating_developer_starts_from_their_own_credential(
    tmp_path: Path,
) -> None:
    other = {"type": "impersonated_service_account", "source_credentials": USER}
    assert _write(tmp_path, other)["source_credentials"] == USER


def test_an_unknown_credential_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported credential type 'gdch_service_account'"):
        _write(tmp_path, {"type": "gdch_service_account"})


def test_no_application_default_credential_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    assert impersonation.main(["x", SA, str(tmp_path / "out.json")]) == 1
    assert "gcloud auth application-default login" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()
