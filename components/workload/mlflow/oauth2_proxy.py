"""Google sign-in in front of MLflow: oauth2-proxy, asked by the ingress before every request
(`auth-url`), sending people without a session to Google (`auth-signin`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.shared import kube, versions
from components.shared.base import Component
from components.shared.kube import INGRESS_CLASS
from components.shared.passwords import generated_password

PORT = 4180
NAME = "oauth2-proxy"
# Google's access and ID tokens last an hour. Every hour the session is renewed with Google (its
# refresh token), so a user disabled or removed there loses access within the hour; after a
# working day the cookie expires and the user signs in again.
COOKIE_REFRESH = "1h"
COOKIE_EXPIRE = "12h"


@dataclass(frozen=True)
class OAuth2ProxyArgs:
    host: str
    """The MLflow host (`mlflow.host`), under which the sign-in serves `/oauth2/`."""
    namespace: str
    """The proxy's own namespace, created here (the platform's: `<mlflow.namespace>-sso`)."""
    client_id: str
    """The OAuth client's id (`auth.oidc.client_id`)."""
    client_secret: pulumi.Input[str]
    """The OAuth client's secret (`auth.oidc.client_secret`), wrapped as a secret here whatever
    the caller passed."""
    allowed_email_domains: list[str]
    """Mail domains whose users may sign in (`auth.oidc.allowed_email_domains`)."""
    tls_secret: str
    """The TLS Secret the sign-in Ingress names, in `namespace` (`mlflow.tls_secret`, else
    `tls.secret_name`)."""
    ingress_namespace: str
    """The ingress controller's namespace (`ingress.namespace`), the only one reaching the proxy."""
    # oauth2-proxy's default trusts every address (the root of the 7.15.2-7.15.4 auth bypass).
    trusted_proxy_ranges: list[str]
    """Where the ingress controller's connections come from (CIDRs): only these may set
    X-Forwarded-*; empty is refused."""
    cluster_issuer: pulumi.Input[str] | None = None
    """The ClusterIssuer that cert-manager issues `tls_secret` from; None: no certificate asked."""
    cookie_secret_rotation: str = "1"
    """Any new value generates a new cookie secret, which signs everyone out
    (`auth.oidc.cookie_secret_rotation`)."""
    image: str = versions.OAUTH2_PROXY_IMAGE
    """The oauth2-proxy image (pinned)."""
    ingress_after: list[pulumi.Resource] = field(default_factory=list)
    """What the sign-in Ingress waits for (the controller's admission webhook)."""


def proxy_args(args: OAuth2ProxyArgs) -> list[str]:
    return [
        "--provider=google",
        f"--http-address=0.0.0.0:{PORT}",
        "--reverse-proxy=true",
        "--upstream=static://202",
        "--cookie-secure=true",
        # Lax, not Strict: Google's redirect back to /oauth2/callback is a cross-site top-level
        # GET, which must carry the CSRF cookie; other cross-site requests carry no session.
        "--cookie-samesite=lax",
        f"--cookie-expire={COOKIE_EXPIRE}",
        f"--cookie-refresh={COOKIE_REFRESH}",
        *(f"--trusted-proxy-ip={cidr}" for cidr in args.trusted_proxy_ranges),
        "--set-xauthrequest=true",
        f"--redirect-url=https://{args.host}/oauth2/callback",
        *(f"--email-domain={domain}" for domain in args.allowed_email_domains),
    ]


def proxy_container(args: OAuth2ProxyArgs, secret: pulumi.Input[str]) -> k8s.core.v1.ContainerArgs:
    return k8s.core.v1.ContainerArgs(
        name=NAME,
        image=args.image,
        image_pull_policy="Always",
        args=proxy_args(args),
        env=[
            kube.secret_env("OAUTH2_PROXY_CLIENT_ID", secret, "client-id"),
            kube.secret_env("OAUTH2_PROXY_CLIENT_SECRET", secret, "client-secret"),
            kube.secret_env("OAUTH2_PROXY_COOKIE_SECRET", secret, "cookie-secret"),
        ],
        ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=PORT)],
        resources=kube.resources("20m", "32Mi", "500m", "128Mi", "64Mi"),
        security_context=kube.container_security_context(versions.OAUTH2_PROXY_UID),
        readiness_probe=kube.http_probe("/ready", "http", period=10, failure_threshold=3),
        liveness_probe=kube.http_probe("/ping", "http", period=20, failure_threshold=3),
    )


class OAuth2Proxy(Component):
    """oauth2-proxy with Google as the identity provider, in a namespace of its own."""

    auth_url: pulumi.Output[str]
    """What the ingress asks for each request (202: signed in, 401: not)."""

    def __init__(
        self, name: str, args: OAuth2ProxyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        if not args.trusted_proxy_ranges:
            raise ValueError("oauth2-proxy needs the ingress controller's address ranges")
        labels = kube.labels(NAME, "sign-in")
        namespace = kube.namespace(name, args.namespace, labels, self)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        cookie = generated_password(f"{name}-cookie", args.cookie_secret_rotation, self)
        secret = k8s.core.v1.Secret(
            name,
            metadata=kube.metadata(None, args.namespace, labels),
            type="Opaque",
            string_data={
                "client-id": args.client_id,
                "client-secret": pulumi.Output.secret(args.client_secret),
                "cookie-secret": cookie.result,
            },
            opts=in_ns,
        )
        self._workload(name, args, labels, secret.metadata.name, in_ns)
        service = kube.cluster_ip_service(NAME, args.namespace, labels, "http", 80, "http", in_ns)
        annotations = (
            {"cert-manager.io/cluster-issuer": args.cluster_issuer} if args.cluster_issuer else None
        )
        k8s.networking.v1.Ingress(
            name,
            metadata=kube.metadata(NAME, args.namespace, labels, annotations),
            # `https://<host>/oauth2/...`: sign-in, callback and sign-out.
            spec=kube.ingress_spec(
                args.host, "/oauth2", service.metadata.name, INGRESS_CLASS, args.tls_secret
            ),
            opts=pulumi.ResourceOptions.merge(
                in_ns, pulumi.ResourceOptions(depends_on=args.ingress_after)
            ),
        )
        kube.allow_ingress_only_from(
            name, args.namespace, labels, args.ingress_namespace, PORT, in_ns
        )
        self.auth_url = pulumi.Output.concat(
            "http://", service.metadata.name, ".", args.namespace, ".svc.cluster.local/oauth2/auth"
        )
        self.register_declared_outputs()

    def _workload(
        self,
        name: str,
        args: OAuth2ProxyArgs,
        labels: dict[str, str],
        secret: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> k8s.apps.v1.Deployment:
        return k8s.apps.v1.Deployment(
            name,
            metadata=kube.metadata(NAME, args.namespace, labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=kube.pod_template(
                    labels, versions.OAUTH2_PROXY_UID, [proxy_container(args, secret)]
                ),
            ),
            opts=opts,
        )
