"""Stack files that must be refused because they are unsafe or cannot work, and the near misses
of them that must be accepted (issue #21): each bullet of the issue, and its generalisations.

Rows: (stack name, stack file it starts from, overrides, fragments one problem line must hold).
A value wrapped in `secure(...)` is what `pulumi config set --secret` stores.
"""

from __future__ import annotations

from typing import Any

from tests.harness import DELETE, MOCK_KUBECONFIG_PATH, secure

# A row: (stack name, stack file it starts from, overrides, fragments of one problem line).
Case = tuple[str, str, dict[str, Any], list[str]]
# A row that must be accepted: (stack, overrides).
Accepted = tuple[str, dict[str, Any]]

OIDC: dict[str, Any] = {
    "mode": "oidc",
    "oidc": {
        "client_id": "123.apps.googleusercontent.com",
        "client_secret": secure("client-s3cret-value"),
        "allowed_email_domains": ["example.com"],
    },
}


def _oidc(**oidc: Any) -> dict[str, Any]:
    return {"auth": {**OIDC, "oidc": {**OIDC["oidc"], **oidc}}}


def _args(*args: str) -> dict[str, Any]:
    return {"mlflow__extra_args": list(args)}


PROTECTIONS: list[Case] = [
    ("prod", "prod", _args("--disable-security-middleware"), ["mlflow.extra_args", "host, CORS"]),
    ("dev", "dev", _args("--disable-security-middleware"), ["'--disable-security-middleware'"]),
    ("prod", "prod", _args("--gunicorn-opts", "--timeout 60"), ["'--gunicorn-opts'", "gunicorn"]),
    ("prod", "prod", _args("--waitress-opts=--threads 8"), ["--waitress-opts", "no opt-out"]),
    ("staging", "staging", _args("--dev"), ["mlflow.extra_args = '--dev'", "debug mode"]),
    ("prod", "prod", _args("--cors-allowed-origins", "*"), ["'--cors-allowed-origins'", "'*'"]),
    ("prod", "prod", _args("--cors-allowed-origins=https://*"), ["origin 'https://*'", "any web"]),
    (
        "prod",
        "prod",
        _args("--cors-allowed-origins=https://app.example.com,*"),
        ["origin '*'", "https://notebook.example.com"],
    ),
    ("prod", "prod", _args("--x-frame-options", "NONE"), ["'NONE'", "DENY or SAMEORIGIN"]),
    ("prod", "prod", _args("--x-frame-options=ALLOWALL"), ["clickjacking", "DENY or SAMEORIGIN"]),
    (
        "prod",
        "prod",
        {"mlflow__extra_env": {"MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE": "true"}},
        ["mlflow.extra_env.MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE = 'true'", "no opt-out"],
    ),
    (
        "prod",
        "prod",
        {"mlflow__extra_env": {"MLFLOW_SERVER_CORS_ALLOWED_ORIGINS": "*"}},
        ["mlflow.extra_env.MLFLOW_SERVER_CORS_ALLOWED_ORIGINS = '*'", "exact origins"],
    ),
    (
        "prod",
        "prod",
        {"mlflow__extra_env": {"MLFLOW_SERVER_X_FRAME_OPTIONS": "none"}},
        ["MLFLOW_SERVER_X_FRAME_OPTIONS = 'none'", "DENY or SAMEORIGIN"],
    ),
    (
        "prod",
        "prod",
        {"mlflow__extra_env": {"MLFLOW_SERVER_ALLOWED_HOSTS": "*"}},
        ["mlflow.extra_env.MLFLOW_SERVER_ALLOWED_HOSTS", "mlflow.allowed_hosts"],
    ),
    ("prod", "prod", {"mlflow__allowed_hosts": ["*"]}, ["mlflow.allowed_hosts = '*'", "rebinding"]),
    (
        "dev",
        "dev",
        {"mlflow__allowed_hosts": ["*:*"]},
        ["mlflow.allowed_hosts = '*:*'", "any Host"],
    ),
    ("prod", "prod", {"mlflow__allowed_hosts": ["*.*"]}, ["'*.*'", "*.example.com"]),
    ("prod", "prod", {"mlflow__allowed_hosts": ["?*"]}, ["'?*'", "a domain you own"]),
    ("prod", "prod", {"mlflow__allowed_hosts": ["a.example.com,*"]}, ["'a.example.com,*'"]),
]

PUBLIC_MAIL: list[Case] = [
    ("prod", "prod", _oidc(allowed_email_domains=[d]), [f"= {d!r}", "public mail service"])
    for d in ("gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com")
] + [
    (
        "staging",
        "staging",
        _oidc(allowed_email_domains=["example.com", "icloud.com"]),
        ["auth.oidc.allowed_email_domains = 'icloud.com'", "your organisation's own domains"],
    ),
    (
        "prod",
        "prod",
        _oidc(allowed_email_domains=["Proton.Me"]),
        ["auth.oidc.allowed_email_domains", "a mail domain such as example.com"],
    ),
    ("prod", "prod", _oidc(allowed_email_domains=["*"]), ["'*'", "a mail domain"]),
    (
        "prod",
        "prod",
        _oidc(allowed_email_domains=[]),
        ["auth.oidc.allowed_email_domains = []", "at least 1 entry"],
    ),
]

CLEAR_TEXT: list[Case] = [
    (
        "prod",
        "prod",
        _oidc(client_secret="GOCSPX-plain"),
        ["auth.oidc.client_secret = (a value in clear text)", "--secret --path"],
    ),
    (
        "dev",
        "dev",
        {"mlflow__extra_secret_env": {"OPENAI_API_KEY": "sk-plain"}},
        ["mlflow.extra_secret_env.OPENAI_API_KEY = (a value in clear text)", "secure:"],
    ),
    (
        "dev",
        "dev",
        {"mlflow__extra_secret_env": {"A_TOKEN": secure("t"), "B_TOKEN": "plain"}},
        ["mlflow.extra_secret_env.B_TOKEN = (a value in clear text)"],
    ),
    # A misspelt secret key is unknown, and its value is not echoed.
    (
        "prod",
        "prod",
        _oidc(client_secrett="GOCSPX-plain"),
        ["auth.oidc.client_secrett = (not shown)", "did you mean 'client_secret'?"],
    ),
]

SECRET_NAMES: list[Case] = [
    (
        "dev",
        "dev",
        {"mlflow__extra_env": {name: "value"}},
        [f"mlflow.extra_env.{name} = (not shown)", f"mlflow.extra_secret_env.{name}"],
    )
    for name in (
        "OPENAI_API_KEY",
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "DB_PASSWORD",
        "SMTP_PASS",
        "AZURE_STORAGE_CONNECTION_STRING",
        "HF_TOKEN",
        "apiKey",
        "SENTRY_DSN",
        "GOOGLE_APPLICATION_CREDENTIALS",
    )
] + [
    (
        "dev",
        "dev",
        {"mlflow__extra_env": {"MLFLOW_GATEWAY_URI": "postgresql://u:hunter2@db:5432/x"}},
        ["mlflow.extra_env.MLFLOW_GATEWAY_URI = (not shown)", "extra_secret_env"],
    ),
]

IMAGE_VERSION: list[Case] = [
    (
        "prod",
        "prod",
        {"mlflow__image": "ghcr.io/mlflow/mlflow:v3.1.0-full"},
        ["mlflow.image", "tag 'v3.1.0-full'", "mlflow.version 3.17.2", ":v3.17.2-full"],
    ),
    (
        "dev",
        "dev",
        {"mlflow__image": "ghcr.io/mlflow/mlflow:v3.17.20", "mlflow__version": "3.17.2"},
        ["mlflow.image", "tag 'v3.17.20'"],
    ),
    (
        "dev",
        "dev",
        {"mlflow__image": "ghcr.io/mlflow/mlflow:v3.17.2-full", "mlflow__version": "3.16.0"},
        ["mlflow.image", "mlflow.version 3.16.0"],
    ),
    (
        "dev",
        "dev",
        {"mlflow__image": "registry.example.com/mlflow@sha256:" + "a" * 64},
        ["mlflow.image", "no tag (a digest alone)", "a digest may follow"],
    ),
]

ALLOWLISTS: list[Case] = [
    (
        "prod",
        "prod",
        {"ingress__allowed_source_ranges": ["0.0.0.0/1", "128.0.0.0/1"]},
        ["ingress.allowed_source_ranges", "0.0.0.0/0", "the internet at large"],
    ),
    (
        "staging",
        "staging",
        {"ingress__allowed_source_ranges": ["0.0.0.0/0"]},
        ["ingress.allowed_source_ranges", "4,294,967,296 addresses"],
    ),
    (
        "prod",
        "prod",
        {"ingress__allowed_source_ranges": ["203.0.113.0/24", "0.0.0.0/2"]},
        ["ingress.allowed_source_ranges", "0.0.0.0/2", "each /8 or smaller"],
    ),
    (
        "prod",
        "prod",
        {"ingress__allowed_source_ranges": ["::/0"]},
        ["ingress.allowed_source_ranges.0 = '::/0'", "every IPv6 address", "IPv4"],
    ),
    (
        "dev",
        "dev",
        {
            "database__authorized_networks": [
                {"name": "a", "cidr": "0.0.0.0/1"},
                {"name": "b", "cidr": "128.0.0.0/1"},
            ]
        },
        ["database.authorized_networks", "0.0.0.0/0", "the internet at large"],
    ),
]

PLAIN_HTTP: list[Case] = [
    (
        "staging",
        "staging",
        {"tls__issuer": "none"},
        ["tls.issuer = 'none'", "LoadBalancer", "clear text", "'acme'"],
    ),
    (
        "dev",
        "dev",
        {
            "cluster": {
                "kind": "existing",
                "context": "ctx",
                "kubeconfig": str(MOCK_KUBECONFIG_PATH),
            },
            "ingress__service_type": "LoadBalancer",
            "tls__issuer": "none",
        },
        ["tls.issuer = 'none'", "on a LoadBalancer"],
    ),
    ("prod", "prod", {"tls__acme_server": "staging"}, ["tls.acme_server = 'staging' in prod"]),
    (
        "prod-eu",
        "staging",
        {"tls__acme_server": "staging"},
        ["tls.acme_server = 'staging'", "stack 'prod-eu'", "allowed: 'production'"],
    ),
]

SCHEDULES: list[Case] = [
    ("dev", "dev", {"mlflow__gc_schedule": s}, ["mlflow.gc_schedule", f"{s!r}", *f])
    for s, f in (
        ("17 3 30 2 *", ["day 30 never occurs in FEB", "never runs"]),
        ("0 0 31 4,6,9,11 *", ["day 31 never occurs in APR, JUN, SEP, NOV"]),
        ("17 25 * * *", ["hour 25 is out of range 0-23", "@weekly"]),
        ("60 3 * * *", ["minute 60 is out of range 0-59"]),
        ("17 3 * * 7", ["weekday 7 is out of range 0-6"]),
        ("17 3 * 13 *", ["month 13 is out of range 1-12"]),
        ("17 3 * *", ["has 4 fields, not 5"]),
        ("@fortnightly", ["has 1 field, not 5", "@daily"]),
        ("17 3 5-1 * *", ["range '5-1' runs backwards"]),
        ("*/0 3 * * *", ["step '0'"]),
        ("17 3 * * MON-XYZ", ["weekday 'XYZ' is not a number"]),
    )
]

NAMESPACES: list[Case] = [
    (
        "dev",
        "dev",
        {"mlflow_platform:ingress": {"service_type": "NodePort"}},
        ["mlflow_platform:ingress: unknown namespace", "did you mean mlflow-platform:ingress?"],
    ),
    (
        "dev",
        "dev",
        {"mlflowplatform:auth": {"enabled": True}},
        ["mlflowplatform:auth", "mlflow-platform:auth"],
    ),
    (
        "dev",
        "dev",
        {"mlfow-platform:tls": {"issuer": "self-signed"}},
        ["mlfow-platform:tls", "the project's name in Pulumi.yaml"],
    ),
    (
        "dev",
        "dev",
        {"ingres": {"replicas": 1}},
        ["mlflow-platform:ingres", "did you mean 'ingress'"],
    ),
    (
        "dev",
        "dev",
        {"mlflow__replica": 1},
        ["mlflow-platform:mlflow.replica = 1", "did you mean 'replicas'"],
    ),
]

CONFLICTS: list[Case] = [
    (
        "staging",
        "staging",
        {"ingress__service_type": "NodePort"},
        ["ingress.service_type = 'NodePort'", "private_nodes", "no public address"],
    ),
    (
        "local",
        "local",
        {"ingress__http_node_port": 30443},
        ["ingress.https_node_port = 30443", "same port", "two different ports"],
    ),
    (
        "local",
        "local",
        {"ingress__http_node_port": 31000, "ingress__https_node_port": 31000},
        ["ingress.https_node_port = 31000"],
    ),
    (
        "staging",
        "staging",
        {"database__backups": {"enabled": True, "start_time": "25:00"}},
        ["database.backups.start_time = '25:00'", "a whole hour from 00:00 to 23:00"],
    ),
    (
        "staging",
        "staging",
        {"database__backups": {"enabled": True, "start_time": "03:30"}},
        ["database.backups.start_time = '03:30'", "(UTC)"],
    ),
    (
        "prod",
        "prod",
        {"mlflow__target_cpu_utilization": 500},
        ["mlflow.target_cpu_utilization = 500", "never reached", "400 or less"],
    ),
    ("prod", "prod", {"mlflow__target_cpu_utilization": 5000}, ["= 5000", "allowed: 1000 or less"]),
]

PLACES: list[Case] = [
    (
        "dev",
        "dev",
        {"gcp__region": "europe-west99"},
        ["gcp.region = 'europe-west99'", "regions list"],
    ),
    ("dev", "dev", {"gcp__region": "mars-north1"}, ["gcp.region", "europe-west1"]),
    (
        "dev",
        "dev",
        {"artifacts__location": "EUROPE"},
        ["artifacts.location = 'EUROPE'", "multi-region (US, EU, ASIA)"],
    ),
    ("dev", "dev", {"artifacts__location": "us-moon1"}, ["artifacts.location", "dual-region"]),
]

KUBECONFIG: list[Case] = [
    (
        "local",
        "local",
        {
            "cluster": {
                "kind": "existing",
                "context": "ctx",
                "kubeconfig": "/nonexistent/kubeconfig",
            }
        },
        ["cluster.kubeconfig = '/nonexistent/kubeconfig'", "no such file", "readable kubeconfig"],
    ),
    (
        "local",
        "local",
        {
            "cluster": {
                "kind": "existing",
                "context": "elsewhere",
                "kubeconfig": str(MOCK_KUBECONFIG_PATH),
            }
        },
        ["cluster.context = 'elsewhere'", "is not a context", "'ctx', 'gke_p_r_c'"],
    ),
    (
        "local",
        "local",
        {"cluster": {"kind": "existing", "context": "ctx", "kubeconfig": "/etc"}},
        ["cluster.kubeconfig = '/etc'", "no such file"],
    ),
]


def _nets(*cidrs: str) -> list[dict[str, str]]:
    return [{"name": f"n{i}", "cidr": c} for i, c in enumerate(cidrs)]


CONTROL_PLANE: list[Case] = (
    [
        (
            stack,
            stack,
            {"cluster__control_plane": "authorized-networks"},
            ["cluster.master_authorized_networks = []", "whole internet", "control_plane 'dns'"],
        )
        for stack in ("staging", "prod")
    ]
    + [
        (
            "prod",
            "prod",
            {
                "cluster__control_plane": "authorized-networks",
                "cluster__master_authorized_networks": _nets(*cidrs),
            },
            ["cluster.master_authorized_networks", *fragments],
        )
        for cidrs, fragments in (
            (["0.0.0.0/0"], ["0.0.0.0/0", "the internet at large"]),
            (["0.0.0.0/1", "128.0.0.0/1"], ["0.0.0.0/0"]),
            (["203.0.113.0/24", "64.0.0.0/2"], ["64.0.0.0/2", "each /8 or smaller"]),
            (["::/0"], ["every IPv6 address"]),
        )
    ]
    + [
        (
            "staging",
            "staging",
            {"cluster__master_authorized_networks": _nets("203.0.113.0/24")},
            ["cluster.master_authorized_networks", "no IP endpoint", "'authorized-networks'"],
        ),
        (
            "staging",
            "staging",
            {"cluster__control_plane": "private", "cluster__private_nodes": False},
            ["cluster.control_plane = 'private'", "needs private nodes"],
        ),
        ("prod", "prod", {"cluster__control_plane": "public"}, ["'dns', 'authorized-networks'"]),
    ]
)

WATCHED_NAMESPACES: list[Case] = [
    (
        "prod",
        "prod",
        {"ingress__values": {"controller": {"scope": {"enabled": False}}}},
        ["ingress.values.controller.scope", "watches the namespaces it serves only"],
    ),
    (
        "prod",
        "prod",
        {
            "ingress__controller": "f5-nginx",
            "ingress__values": {"controller": {"watchNamespace": ""}},
        },
        ["ingress.values.controller.watchNamespace = ''", "set that key instead"],
    ),
    (
        "prod",
        "prod",
        {
            "ingress__controller": "f5-nginx",
            "ingress__values": {"controller": {"watchNamespaceLabel": "a=b"}},
        },
        ["ingress.values.controller.watchNamespaceLabel = 'a=b'"],
    ),
]

GCP_AUTH: list[Case] = [
    (
        "local",
        "local",
        {"cluster__addons": ["gcp-auth"]},
        ["cluster.addons = ['gcp-auth']", "your own Google credentials", "add a gcp block"],
    ),
    # A gcp block alone: nothing in GCP, so no service account is made for the addon to use.
    (
        "local",
        "local",
        {
            "cluster__addons": ["gcp-auth"],
            "gcp": {"project": "my-mlflow-dev", "region": "europe-west1"},
        },
        ["cluster.addons = ['gcp-auth']", "your own Google credentials", "a GCS bucket"],
    ),
]

SECURE_CASES: list[Case] = (
    PROTECTIONS
    + PUBLIC_MAIL
    + CLEAR_TEXT
    + SECRET_NAMES
    + IMAGE_VERSION
    + ALLOWLISTS
    + PLAIN_HTTP
    + SCHEDULES
    + NAMESPACES
    + CONFLICTS
    + PLACES
    + KUBECONFIG
    + CONTROL_PLANE
    + WATCHED_NAMESPACES
    + GCP_AUTH
)

# What the platforms accept must be accepted: (stack, overrides).
SECURE_ACCEPTED: list[Accepted] = [
    ("dev", {"mlflow__gc_schedule": s})
    for s in ("@weekly", "@daily", "@hourly", "@monthly", "@yearly", "@every 12h", "0 4 29 2 *")
] + [
    ("dev", {"mlflow__gc_schedule": "17 3 30 2 MON"}),  # either day field matching is enough
    ("dev", {"mlflow__gc_schedule": "17 3 1-31/2 JAN-MAR SUN,SAT"}),
    ("dev", {"mlflow__gc_schedule": "*/15 */6 ? * ?"}),
    # `pulumi config set --path mlflow.extra_env.X 123` stores a number (and true a boolean).
    ("dev", {"mlflow__extra_env": {"MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": 10}}),
    ("dev", {"mlflow__extra_env": {"RATIO": 0.5, "FLAG": True}}),
    ("dev", {"mlflow__extra_env": {"TOKENIZERS_PARALLELISM": "false", "KEYRING_BACKEND": "x"}}),
    ("prod", {"mlflow__max_replicas": 6, "mlflow__target_cpu_utilization": 150}),
    ("prod", {"mlflow__allowed_hosts": ["mlflow.internal.example.com", "*.example.com"]}),
    ("prod", {"mlflow__extra_args": ["--cors-allowed-origins", "https://*.example.com"]}),
    ("prod", {"mlflow__extra_args": ["--x-frame-options=DENY"]}),
    ("prod", {"mlflow__extra_args": ["--uvicorn-opts", "--timeout-keep-alive 120"]}),
    ("prod", {"mlflow__image": "ghcr.io/mlflow/mlflow:v3.17.2"}),
    ("prod", {"mlflow__image": "registry.example.com/ml/mlflow:3.17.2-gcs@sha256:" + "b" * 64}),
    ("prod", _oidc()),
    ("staging", {"tls__acme_server": "staging"}),
    ("dev", {"artifacts__location": "EU"}),
    ("dev", {"artifacts__location": "eur4"}),
    ("dev", {"artifacts__location": "us-central1", "gcp__region": "us-east5"}),
    ("local", {"ingress__https_node_port": 30444}),
    ("local", {"database__password_rotation": 7}),
    (
        "prod",
        {
            "cluster__control_plane": "authorized-networks",
            "cluster__master_authorized_networks": _nets("203.0.113.0/24", "10.0.0.0/8"),
        },
    ),
    ("prod", {"cluster__control_plane": "private"}),
    # Providers' namespaces are theirs.
    ("dev", {"gcp:project": "my-mlflow-dev", "kubernetes:enableServerSideApply": "true"}),
    ("staging", {"cluster__private_nodes": False, "cluster__master_ipv4_cidr": DELETE}),
]
