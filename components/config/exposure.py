"""Who may reach MLflow and how: the login, the certificate and the stable address."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from components.config.mail_domains import PUBLIC_MAIL_DOMAINS
from components.config.section import Described, EnvDefaults, Problem, Section
from components.config.values import (
    Count,
    DnsLabel,
    DnsSubdomain,
    Flag,
    GcpProject,
    NonBlank,
    PasswordRotation,
    matcher,
)
from components.shared import versions

Email = Annotated[
    str,
    AfterValidator(
        matcher(
            r"[^@\s]+@[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+",
            "an e-mail address such as platform-team@example.com",
        )
    ),
]
EmailDomain = Annotated[
    str,
    AfterValidator(
        matcher(
            r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+",
            "a mail domain such as example.com (no @)",
        )
    ),
]
PostgresName = Annotated[
    str,
    AfterValidator(
        matcher(
            r"[a-z_][a-z0-9_]{0,62}",
            "a PostgreSQL name: up to 63 lowercase letters, digits and underscores",
        )
    ),
]


class OidcConfig(Section):
    """Google sign-in through oauth2-proxy in front of the ingress."""

    client_id: NonBlank = Field(description="OAuth client id (Google Cloud console).")
    client_secret: NonBlank = Field(
        description="OAuth client secret (`pulumi config set --secret --path ...`)."
    )
    allowed_email_domains: list[EmailDomain] = Field(
        min_length=1, description="Mail domains whose users may sign in."
    )
    cookie_secret_rotation: PasswordRotation = "1"

    def problems(self) -> list[Problem]:
        return [
            Problem(
                "allowed_email_domains",
                domain,
                "is a public mail service: anyone can open an account there and sign in; "
                "allowed: your organisation's own domains, such as example.com",
            )
            for domain in self.allowed_email_domains
            if domain.lower() in PUBLIC_MAIL_DOMAINS
        ]


class AuthConfig(Section):
    enabled: Flag = Field(True, description="Require a login (only `local` may turn it off).")
    mode: Literal["basic", "oidc"] = Field(
        "basic", description="basic: MLflow's own users; oidc: Google sign-in (oauth2-proxy)."
    )
    default_permission: Literal["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"] = Field(
        "READ", description="basic: what every user may do with others' experiments."
    )
    admin_username: DnsLabel = Field("admin", description="basic: the admin user's name.")
    admin_password_rotation: PasswordRotation = "1"
    database: PostgresName = Field(
        "mlflow_auth", description="basic: the user store's database (same PostgreSQL)."
    )
    # Each request's password hash check costs MLflow more than the request itself; with the
    # cache a worker checks a login once per window (make bench-serve, dev: log_batch from 3.1
    # to 39.8 calls/s, as fast as with no login). The window is also how long a changed
    # password or deleted user still works on the workers that did not make the change.
    credential_cache_seconds: Count = Field(
        10,
        ge=0,
        le=300,
        description="basic: a worker trusts a checked login this long (0: check every request).",
    )
    oidc: OidcConfig | None = Field(None, description="oidc: the identity provider.")

    def problems(self) -> list[Problem]:
        if self.enabled and self.mode == "oidc" and self.oidc is None:
            return [
                Problem(
                    "oidc",
                    None,
                    "mode 'oidc' needs the identity provider; allowed: an oidc block with "
                    "client_id, client_secret and allowed_email_domains",
                )
            ]
        if self.mode == "basic" and self.oidc is not None:
            return [
                Problem(
                    "oidc",
                    Described("(a block)"),
                    "is used only with mode 'oidc'; allowed: leave it out, or mode 'oidc'",
                )
            ]
        return []


class CertManagerChartConfig(Section):
    repository: str = Field(versions.CERT_MANAGER_CHART_REPOSITORY, description="Chart repository.")
    name: str = Field(versions.CERT_MANAGER_CHART_NAME, description="Chart name.")
    version: NonBlank = Field(versions.CERT_MANAGER_CHART_VERSION, description="Chart version.")
    path: NonBlank | None = Field(None, description="Local chart directory or .tgz.")

    def problems(self) -> list[Problem]:
        if self.path is not None and not Path(self.path).expanduser().exists():
            return [
                Problem(
                    "path",
                    self.path,
                    "no such file or directory; allowed: a local chart directory or .tgz",
                )
            ]
        return []


class TlsConfig(Section):
    issuer: Literal["acme", "self-signed", "none"] = Field(
        description="Who signs the certificate: Let's Encrypt (HTTP-01), a CA of the cluster's "
        "own, or nobody (then mlflow.tls_secret or plain http)."
    )
    acme_email: Email | None = Field(None, description="acme: Let's Encrypt account e-mail.")
    acme_server: Literal["production", "staging"] = Field(
        "production", description="acme: Let's Encrypt's production or staging directory."
    )
    secret_name: DnsSubdomain = Field(
        "mlflow-tls", description="Secret the issued certificate is stored in."
    )
    hsts: Flag = Field(description="Strict-Transport-Security on every https response.")
    cert_manager_namespace: DnsLabel = Field(
        "cert-manager", description="cert-manager's namespace."
    )
    chart: CertManagerChartConfig = Field(
        default_factory=dict, validate_default=True, description="cert-manager chart source."
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "issuer": {"local": "self-signed", "dev": "self-signed", "staging": "acme", "prod": "acme"},
        "hsts": {"local": False, "dev": False, "staging": False, "prod": True},
    }

    def problems(self) -> list[Problem]:
        if self.issuer == "acme" and self.acme_email is None:
            return [
                Problem(
                    "acme_email",
                    None,
                    "issuer 'acme' needs an e-mail for the Let's Encrypt account; allowed: an "
                    "address such as platform-team@example.com",
                )
            ]
        return []


class DnsConfig(Section):
    managed_zone: DnsLabel | None = Field(
        None, description="Cloud DNS zone to add an A record for mlflow.host to (GKE stacks)."
    )
    project: GcpProject | None = Field(None, description="The zone's project (default: gcp).")
    ttl: int = Field(300, ge=30, le=86400, description="The record's TTL in seconds.")
