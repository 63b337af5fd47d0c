"""Secure exposure under mocks: login, certificates, a stable address and allowlists per stack."""

from __future__ import annotations

from typing import Any, cast

import pytest

from tests.harness import (
    STACKS,
    Capture,
    Registration,
    redacted,
    run_stack,
    secure,
    stack_config,
    with_overrides,
)

RELEASE = "kubernetes:helm.sh/v3:Release"
CUSTOM = "kubernetes:cert-manager.io/v1:"


def _mlflow_ingress(capture: Capture) -> Registration:
    return next(
        r
        for r in capture.of_type("kubernetes:networking.k8s.io/v1:Ingress")
        if r.inputs["metadata"]["labels"]["app.kubernetes.io/name"] == "mlflow"
    )


def _controller_values(capture: Capture) -> dict[str, Any]:
    return cast(
        dict[str, Any], capture.one(RELEASE, "mlflow-ingress").inputs["values"]["controller"]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_has_a_basic_auth_login(stacks: dict[str, Capture], stack: str) -> None:
    capture = stacks[stack]
    pod = capture.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    server = next(c for c in pod["containers"] if c["name"] == "mlflow")
    assert server["args"][:3] == ["server", "--app-name", "basic-auth"]
    env = {e["name"]: e for e in server["env"]}
    assert env["MLFLOW_AUTH_CONFIG_PATH"]["value"] == "/etc/mlflow-auth/basic_auth.ini"
    assert "secretKeyRef" in env["MLFLOW_FLASK_SERVER_SECRET_KEY"]["valueFrom"]
    # The admin password is applied by `auth-admin` only; the server finds the admin there.
    assert "MLFLOW_AUTH_ADMIN_PASSWORD" not in env
    assert [c["name"] for c in pod["initContainers"]][-1:] == ["auth-admin"]
    job_pod = capture.one("kubernetes:batch/v1:Job").inputs["spec"]["template"]["spec"]
    assert [c["name"] for c in job_pod["containers"]] == ["db-migrate", "auth-db-migrate"]
    # The probes stay on /health, which basic auth leaves open.
    assert server["readinessProbe"]["httpGet"]["path"] == "/health"
    auth = capture.one("kubernetes:core/v1:Secret", "mlflow-auth")
    ini = auth.inputs["stringData"]["basic_auth.ini"]
    assert "default_permission = READ" in ini and "admin_username = admin" in ini
    # MLflow's credential cache, on for auth.credential_cache_seconds (make bench-serve).
    assert "\nauth_cache_ttl_seconds = 10\n" in ini
    assert "/mlflow_auth?" in ini, "the user store has a database of its own"
    assert redacted(auth.raw_inputs)["stringData"] == "[secret]"
    for config_map in capture.of_type("kubernetes:core/v1:ConfigMap"):
        assert "basic_auth" not in str(config_map.inputs)


def test_the_user_store_database_exists_on_each_kind_of_postgresql(
    stacks: dict[str, Capture],
) -> None:
    names = {r.inputs["name"] for r in stacks["dev"].of_type("gcp:sql/database:Database")}
    assert names == {"mlflow", "mlflow_auth"}
    postgres = stacks["local"].one("kubernetes:apps/v1:StatefulSet").inputs
    env = {
        e["name"]: e.get("value")
        for e in postgres["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["EXTRA_DATABASES"] == "mlflow_auth"


def test_local_may_turn_the_login_off() -> None:
    capture = run_stack("local", with_overrides(stack_config("local"), auth__enabled=False))
    pod = capture.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    assert "--app-name" not in pod["containers"][0]["args"]
    assert "admin_password" not in capture.outputs
    assert not capture.of_type("kubernetes:core/v1:Secret") or all(
        r.name != "mlflow-auth" for r in capture.of_type("kubernetes:core/v1:Secret")
    )


@pytest.mark.parametrize(
    ("stack", "issuer"),
    [
        ("local", "mlflow-platform-ca"),
        ("dev", "mlflow-platform-ca"),
        ("staging", "mlflow-platform-letsencrypt"),
        ("prod", "mlflow-platform-letsencrypt"),
    ],
)
def test_the_ingress_gets_its_certificate_from_the_stacks_issuer(
    stacks: dict[str, Capture], stack: str, issuer: str
) -> None:
    capture = stacks[stack]
    release = capture.one(RELEASE, "mlflow-cert-manager").inputs
    assert release["version"] == "v1.21.3" and release["values"]["crds"] == {
        "enabled": True,
        "keep": False,
    }
    issuers = {r.name: r.inputs for r in capture.of_type(f"{CUSTOM}ClusterIssuer")}
    assert issuer in issuers
    ingress = _mlflow_ingress(capture).inputs
    annotations = ingress["metadata"]["annotations"]
    assert annotations["cert-manager.io/cluster-issuer"] == issuer
    assert ingress["spec"]["tls"] == [
        {"hosts": [ingress["spec"]["rules"][0]["host"]], "secretName": "mlflow-tls"}
    ]
    redirect = annotations["nginx.ingress.kubernetes.io/ssl-redirect"]
    assert redirect == ("false" if stack in ("local", "dev") else "true")  # NodePort: no :443


def test_acme_uses_lets_encrypt_through_the_nginx_class(stacks: dict[str, Capture]) -> None:
    spec = stacks["prod"].one(f"{CUSTOM}ClusterIssuer").inputs["spec"]["acme"]
    assert spec["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert spec["email"] == "platform-team@example.com"
    assert spec["solvers"] == [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]


def test_the_local_ca_is_a_self_signed_root_that_signs_the_host(stacks: dict[str, Capture]) -> None:
    capture = stacks["local"]
    ca = capture.one(f"{CUSTOM}Certificate").inputs
    assert ca["metadata"]["namespace"] == "cert-manager"
    assert ca["spec"]["isCA"] is True
    assert ca["spec"]["issuerRef"]["name"] == "mlflow-platform-selfsigned"
    issuers = {r.name: r.inputs["spec"] for r in capture.of_type(f"{CUSTOM}ClusterIssuer")}
    assert issuers == {
        "mlflow-platform-selfsigned": {"selfSigned": {}},
        "mlflow-platform-ca": {"ca": {"secretName": "mlflow-platform-ca"}},
    }


@pytest.mark.parametrize(
    ("stack", "hsts"), [("local", "false"), ("staging", "false"), ("prod", "true")]
)
def test_hsts_on_prod(stacks: dict[str, Capture], stack: str, hsts: str) -> None:
    assert _controller_values(stacks[stack])["config"]["hsts"] == hsts


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_gke_stacks_reserve_their_address(stacks: dict[str, Capture], stack: str) -> None:
    capture = stacks[stack]
    address = capture.one("gcp:compute/address:Address").inputs
    assert address["addressType"] == "EXTERNAL" and address["region"] == "europe-west1"
    assert address["name"] == f"mlflow-ingress-{stack}"
    assert "loadBalancerIP" in _controller_values(capture)["service"]
    assert not capture.of_type("gcp:dns/recordSet:RecordSet")  # no zone configured
    assert "ingress_ip" in capture.outputs


@pytest.mark.parametrize("stack", ["local", "dev"])
def test_minikube_stacks_reserve_nothing(stacks: dict[str, Capture], stack: str) -> None:
    assert not stacks[stack].of_type("gcp:compute/address:Address")


def test_a_managed_zone_gets_an_a_record_for_the_host() -> None:
    config = with_overrides(stack_config("prod"), dns__managed_zone="example-com")
    capture = run_stack("prod", config)
    record = capture.one("gcp:dns/recordSet:RecordSet")
    assert record.inputs["name"] == "mlflow.example.com."
    assert record.inputs["type"] == "A" and record.inputs["managedZone"] == "example-com"
    address = capture.one("gcp:compute/address:Address")
    assert capture.depends_on(record, address)


def test_source_ranges_restrict_the_load_balancer() -> None:
    config = with_overrides(stack_config("prod"), ingress__allowed_source_ranges=["203.0.113.0/24"])
    service = _controller_values(run_stack("prod", config))["service"]
    assert service["loadBalancerSourceRanges"] == ["203.0.113.0/24"]


OIDC = {
    "mode": "oidc",
    "oidc": {
        "client_id": "123.apps.googleusercontent.com",
        "client_secret": secure("client-s3cret-value"),
        "allowed_email_domains": ["example.com"],
    },
}


def test_oidc_puts_oauth2_proxy_in_front_of_the_ingress() -> None:
    capture = run_stack("prod", with_overrides(stack_config("prod"), auth=OIDC))
    deployment = next(
        r for r in capture.of_type("kubernetes:apps/v1:Deployment") if r.name == "mlflow-sign-in"
    ).inputs
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6"
    assert (
        "--provider=google" in container["args"]
        and "--email-domain=example.com" in container["args"]
    )
    assert "--redirect-url=https://mlflow.example.com/oauth2/callback" in container["args"]
    secret = capture.one("kubernetes:core/v1:Secret", "mlflow-sign-in")
    assert redacted(secret.raw_inputs)["stringData"] == "[secret]"
    assert "client-s3cret-value" not in str(redacted(secret.raw_inputs))
    annotations = _mlflow_ingress(capture).inputs["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/auth-url"].endswith(
        ".mlflow-sso.svc.cluster.local/oauth2/auth"
    )
    assert annotations["nginx.ingress.kubernetes.io/auth-signin"].startswith(
        "https://$host/oauth2/start"
    )
    # MLflow's own login is off: the sign-in is in front of it.
    server = capture.one("kubernetes:apps/v1:Deployment", "mlflow").inputs
    assert "--app-name" not in server["spec"]["template"]["spec"]["containers"][0]["args"]
    for name, (value, _) in capture.outputs.items():
        assert "client-s3cret-value" not in str(value), name
