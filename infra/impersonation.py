"""Write an impersonated application-default credential for minikube's gcp-auth addon.

  python -m infra.impersonation SERVICE_ACCOUNT_EMAIL OUTPUT_FILE

The source is the developer's own application-default credential (`gcloud auth
application-default login`); the output makes every Google client that reads it act as
SERVICE_ACCOUNT_EMAIL. Written 0600 in a 0700 directory; nothing is printed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

IMPERSONATION_URL = (
    "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{}:generateAccessToken"
)
SOURCE_TYPES = ("authorized_user", "service_account", "external_account")


def source_credential_path() -> Path:
    """Where gcloud keeps the developer's application-default credential."""
    config = os.environ.get("CLOUDSDK_CONFIG") or str(Path("~/.config/gcloud").expanduser())
    return Path(config) / "application_default_credentials.json"


def impersonated(source: dict[str, Any], email: str) -> dict[str, Any]:
    if source.get("type") == "impersonated_service_account":
        source = source["source_credentials"]  # already impersonating: start from the person
    if source.get("type") not in SOURCE_TYPES:
        raise ValueError(f"unsupported credential type {source.get('type')!r}")
    return {
        "type": "impersonated_service_account",
        "service_account_impersonation_url": IMPERSONATION_URL.format(email),
        "delegates": [],
        "source_credentials": source,
    }


def write(email: str, output: Path, source: Path) -> None:
    credential = impersonated(json.loads(source.read_text()), email)
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(credential, handle)
    output.chmod(0o600)


def main(argv: list[str]) -> int:
    source = source_credential_path()
    if not source.is_file():
        print(
            f"no application-default credential at {source}: run "
            "`gcloud auth application-default login` first",
            file=sys.stderr,
        )
        return 1
    write(argv[1], Path(argv[2]), source)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
