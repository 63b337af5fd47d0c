"""Generated passwords: one recipe for every password the platform makes."""

from __future__ import annotations

import pulumi
import pulumi_random as random


def generated_password(name: str, rotation: str, parent: pulumi.Resource) -> random.RandomPassword:
    # Alphanumeric only: the password is embedded in a SQLAlchemy URI. 32 characters of
    # [A-Za-z0-9] carry ~190 bits. Changing `rotation` replaces it (Day-2 password rotation).
    return random.RandomPassword(
        f"{name}-password",
        length=32,
        special=False,
        keepers={"rotation": rotation},
        opts=pulumi.ResourceOptions(parent=parent),
    )
