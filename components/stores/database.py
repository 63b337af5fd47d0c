"""What MLflow needs of its backend store, whichever runs it: Cloud SQL for PostgreSQL
(cloud_sql.py) or PostgreSQL inside the cluster (postgres.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random


@dataclass(frozen=True)
class DatabaseEndpoint:
    """How MLflow reaches its database; `password` is always a Pulumi secret."""

    host: pulumi.Output[str]
    """The server's address: the in-cluster Service's DNS name, or the Cloud SQL instance's IP
    (which MLflow does not dial: it connects to the Auth Proxy on 127.0.0.1)."""
    port: int
    """The port MLflow connects to: PostgreSQL's 5432, where the Auth Proxy listens too."""
    database: str
    """The database MLflow keeps its tracking data in."""
    user: str
    """The user MLflow connects as."""
    password: pulumi.Output[str]
    """The user's password (a secret)."""
    sslmode: str
    """libpq's `sslmode` in MLflow's database URI; with Cloud SQL the Auth Proxy does TLS."""
    connection_name: pulumi.Output[str] | None = None
    """Cloud SQL's `project:region:instance`, which the Auth Proxy sidecar connects by; None:
    no proxy (in-cluster PostgreSQL)."""
    private_ip: bool = False
    """Cloud SQL: the Auth Proxy dials the instance's private IP (`database.private_ip`)."""

    @classmethod
    def on_postgres_port(
        cls,
        host: pulumi.Output[str],
        database: str,
        user: str,
        password: random.RandomPassword,
        sslmode: str,
        **cloud_sql: Any,
    ) -> DatabaseEndpoint:
        """PostgreSQL's own port, and the generated password wrapped as a secret."""
        return cls(
            host=host,
            port=POSTGRES_PORT,
            database=database,
            user=user,
            password=pulumi.Output.secret(password.result),
            sslmode=sslmode,
            **cloud_sql,
        )


POSTGRES_PORT = 5432
