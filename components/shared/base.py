"""What every component here shares: a type token that matches its class, and outputs that are
declared once, as typed class attributes, and registered from that declaration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pulumi

PACKAGE = "mlflow-platform"


def type_token(cls: type) -> str:
    """`mlflow-platform:<module>:<Class>`, e.g. mlflow-platform:cluster:MinikubeCluster. The
    module part is the file's name, or the class's `token_module` where the file was renamed
    after stacks were created (a token is part of every URN under the component)."""
    module = getattr(cls, "token_module", None) or cls.__module__.rsplit(".", 1)[-1]
    return f"{PACKAGE}:{module}:{cls.__name__}"


def declared_outputs(cls: type) -> list[str]:
    """The attributes a component class (or its bases) annotates as `pulumi.Output[...]`."""
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if str(annotation).startswith(("pulumi.Output[", "Output[")) and name not in names:
                names.append(name)
    return names


class Component(pulumi.ComponentResource):
    """A ComponentResource named after its class. `former_types` keeps stacks created under an
    older type token: the engine matches them by alias, so nothing is replaced."""

    token_module: ClassVar[str | None] = None

    def __init__(
        self,
        name: str,
        opts: pulumi.ResourceOptions | None = None,
        former_types: Sequence[str] = (),
    ) -> None:
        if former_types:
            aliases = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=t) for t in former_types])
            opts = pulumi.ResourceOptions.merge(opts, aliases)
        super().__init__(type_token(type(self)), name, None, opts)

    def register_declared_outputs(self) -> None:
        """Register every declared output; call it last in the constructor."""
        self.register_outputs({name: getattr(self, name) for name in declared_outputs(type(self))})
