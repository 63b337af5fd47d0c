"""Every pinned version in one place, each with the reason for the pin.

Change a pin here and every stack, test and the README's config table follow. The
`# renovate:` line above a pin tells Renovate's regex manager (renovate.json) and `make outdated`
where that pin is served.
"""

from typing import Final

# MLflow 3.17.2 is the newest release installable from PyPI when this was pinned; the
# integration tests run exactly this version, so the image tag must match it.
# renovate: datasource=pypi depName=mlflow
MLFLOW_VERSION: Final = "3.17.2"
# The `-full` image variant carries psycopg2 and google-cloud-storage; the plain tag has neither.
MLFLOW_IMAGE_REPOSITORY: Final = "ghcr.io/mlflow/mlflow"

# ingress-nginx 4.15.1 is the final chart release: the project was retired upstream in
# March 2026. Pinned so `pulumi up` never resolves a different chart behind our back.
# renovate: datasource=helm depName=ingress-nginx registryUrl=https://kubernetes.github.io/ingress-nginx
INGRESS_NGINX_CHART_VERSION: Final = "4.15.1"
INGRESS_NGINX_CHART_REPOSITORY: Final = "https://kubernetes.github.io/ingress-nginx"
INGRESS_NGINX_CHART_NAME: Final = "ingress-nginx"

# F5 NGINX Ingress Controller (ingress.controller f5-nginx), the maintained successor: chart
# 2.7.1 ships controller 5.6.1, the newest release when pinned (F5 tested 5.5 on Kubernetes
# 1.29 to 1.36, which covers the 1.35 the stacks target).
# renovate: datasource=docker depName=ghcr.io/nginx/charts/nginx-ingress
F5_NGINX_CHART_VERSION: Final = "2.7.1"
F5_NGINX_CHART_REPOSITORY: Final = "oci://ghcr.io/nginx/charts"
F5_NGINX_CHART_NAME: Final = "nginx-ingress"
# The chart's appVersion, set explicitly so a chart mirror or override cannot swap the image.
F5_NGINX_IMAGE_REPOSITORY: Final = "nginx/nginx-ingress"
# renovate: datasource=docker depName=nginx/nginx-ingress
F5_NGINX_IMAGE_TAG: Final = "5.6.1"

# cert-manager issues the MLflow Ingress's certificate; its chart installs its own CRDs.
# v1.21.3 was the newest release when pinned (it drops the compromised eMudhra CA).
# renovate: datasource=helm depName=cert-manager registryUrl=https://charts.jetstack.io
CERT_MANAGER_CHART_VERSION: Final = "v1.21.3"
CERT_MANAGER_CHART_REPOSITORY: Final = "https://charts.jetstack.io"
CERT_MANAGER_CHART_NAME: Final = "cert-manager"

# oauth2-proxy in front of the ingress for Google sign-in (auth.mode oidc); v7.15.6 is the
# newest release (2026-11-05): Go 1.26.10 and dependencies with 18 CVEs fixed. Every release
# still trusts X-Forwarded-* from any address unless told otherwise (in 7.15.2-7.15.4 an auth
# bypass, CVE-2026-76835), so the proxy's args name its only trusted sources. The image runs as
# UID 65532 (distroless nonroot).
# renovate: datasource=docker depName=quay.io/oauth2-proxy/oauth2-proxy
OAUTH2_PROXY_IMAGE: Final = "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6"
OAUTH2_PROXY_UID: Final = 65532

# PostgreSQL 16 on both sides: Cloud SQL's POSTGRES_16 and the in-cluster image of the
# local stack, so a schema migrated locally behaves the same as in the cloud.
CLOUD_SQL_DATABASE_VERSION: Final = "POSTGRES_16"
# renovate: datasource=docker depName=docker.io/library/postgres versioning=docker
POSTGRES_IMAGE: Final = "docker.io/library/postgres:16.10-bookworm"

# Cloud SQL Auth Proxy 2.x (2.21.3 was the newest 2.x release when pinned).
# renovate: datasource=docker depName=gcr.io/cloud-sql-connectors/cloud-sql-proxy
CLOUD_SQL_PROXY_IMAGE: Final = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.21.3"

# Kubernetes 1.35 is the minor every stack targets by default: minikube starts it, GKE is
# asked for it as the minimum master version, and manifests are validated against its schemas.
KUBERNETES_VERSION: Final = "1.35"
# renovate: datasource=github-releases depName=kubernetes/kubernetes
MINIKUBE_KUBERNETES_VERSION: Final = "v1.35.0"


def mlflow_image(version: str = MLFLOW_VERSION) -> str:
    """The official MLflow image with database and GCS clients baked in."""
    return f"{MLFLOW_IMAGE_REPOSITORY}:v{version}-full"
