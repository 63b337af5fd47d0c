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
    port: int
    database: str
    user: str
    password: pulumi.Output[str]
    sslmode: str
    # Set for Cloud SQL: the Auth Proxy sidecar connects by instance connection name.
    connection_name: pulumi.Output[str] | None = None
    private_ip: bool = False

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
