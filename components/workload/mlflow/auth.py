"""The login in front of MLflow: MLflow's own basic-auth app, or Google sign-in (oauth2-proxy).

Basic auth keeps its users in a database of its own on the same PostgreSQL, so every replica
sees the same users. Its configuration (with the database password) is an ini file in a Secret,
never a ConfigMap. MLflow reads the admin password only when it creates the admin user; the
`auth-admin` init container applies the current one on every pod start, so a rotation (a new
Secret, hence a new pod template) really changes it, and only that container holds it: the
server starts with the admin already in the store, which is all MLflow asks then.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config import AuthConfig, default_of
from components.shared import kube

AUTH_CONFIG_DIR = "/etc/mlflow-auth"
AUTH_CONFIG_FILE = "basic_auth.ini"
ENV_AUTH_CONFIG_PATH = "MLFLOW_AUTH_CONFIG_PATH"
ENV_ADMIN_PASSWORD = "MLFLOW_AUTH_ADMIN_PASSWORD"
ADMIN_PASSWORD_KEY = "admin-password"
# The basic-auth app's CSRF key: the same in every worker and replica, or forms break.
ENV_FLASK_SECRET_KEY = "MLFLOW_FLASK_SERVER_SECRET_KEY"
FLASK_SECRET_KEY = "flask-secret-key"

# Create the admin user, or give it the current password: MLflow's own store API, so the hash
# is MLflow's and no old password is needed.
APPLY_ADMIN_SCRIPT = """\
from mlflow.server.auth.config import read_auth_config
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

config = read_auth_config()
store = SqlAlchemyStore()
store.init_db(config.database_uri)
if store.has_user(config.admin_username, use_primary=True):
    store.update_user(config.admin_username, password=config.admin_password)
else:
    store.create_user(config.admin_username, config.admin_password, is_admin=True)
print(f"admin user {config.admin_username!r} has the current password")
"""


@dataclass(frozen=True)
class BasicAuthArgs:
    database: str = default_of(AuthConfig, "database")
    """The user store's database, on the same PostgreSQL and with the same user as MLflow's
    (`auth.database`)."""
    default_permission: str = default_of(AuthConfig, "default_permission")
    """What every user may do with others' experiments (`auth.default_permission`)."""
    admin_username: str = default_of(AuthConfig, "admin_username")
    """The admin user's name (`auth.admin_username`)."""
    admin_password_rotation: str = default_of(AuthConfig, "admin_password_rotation")
    """Any new value generates a new admin password and CSRF key
    (`auth.admin_password_rotation`)."""
    credential_cache_seconds: int = default_of(AuthConfig, "credential_cache_seconds")
    """How long a worker trusts a checked login, in seconds; 0: it checks every request
    (`auth.credential_cache_seconds`)."""


def auth_ini(args: BasicAuthArgs, database_uri: str) -> str:
    """MLflow's basic_auth.ini: the admin password comes from the environment, not the file."""
    return "\n".join(
        [
            "[mlflow]",
            f"default_permission = {args.default_permission}",
            f"database_uri = {database_uri}",
            f"admin_username = {args.admin_username}",
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth",
            f"auth_cache_ttl_seconds = {args.credential_cache_seconds}",
            "",
        ]
    )


@dataclass(frozen=True)
class AuthSecret:
    """The auth Secret's name, as the pod reads it (a file and an env var)."""

    name: pulumi.Input[str]

    def volume(self) -> k8s.core.v1.VolumeArgs:
        return k8s.core.v1.VolumeArgs(
            name="auth-config",
            secret=k8s.core.v1.SecretVolumeSourceArgs(
                secret_name=self.name,
                items=[k8s.core.v1.KeyToPathArgs(key=AUTH_CONFIG_FILE, path=AUTH_CONFIG_FILE)],
            ),
        )

    def mount(self) -> k8s.core.v1.VolumeMountArgs:
        return k8s.core.v1.VolumeMountArgs(
            name="auth-config", mount_path=AUTH_CONFIG_DIR, read_only=True
        )

    def config_env(self) -> k8s.core.v1.EnvVarArgs:
        """Where the ini is mounted: every container that opens the user store."""
        return k8s.core.v1.EnvVarArgs(
            name=ENV_AUTH_CONFIG_PATH, value=f"{AUTH_CONFIG_DIR}/{AUTH_CONFIG_FILE}"
        )

    def admin_password_env(self) -> k8s.core.v1.EnvVarArgs:
        """Only for the container that applies it (`auth-admin`): the server finds the admin
        already there and never reads it."""
        return kube.secret_env(ENV_ADMIN_PASSWORD, self.name, ADMIN_PASSWORD_KEY)

    def csrf_key_env(self) -> k8s.core.v1.EnvVarArgs:
        """Only for the server, which signs the basic-auth app's forms with it."""
        return kube.secret_env(ENV_FLASK_SECRET_KEY, self.name, FLASK_SECRET_KEY)


def apply_admin_command() -> list[str]:
    return ["python", "-c", APPLY_ADMIN_SCRIPT]
