"""MLflow's own protections (MLflow >= 3.5): the schema refuses every way of switching them off.

The tracking server checks the Host header (DNS rebinding), answers browsers' cross-origin
requests only for listed origins (CORS), forbids framing (clickjacking) and sets security
headers. A stack may not undo that through `mlflow.extra_args`, `mlflow.extra_env` or
`mlflow.allowed_hosts`; there is no opt-out key.
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from components.config.section import Problem

# Flags (and the variables MLflow reads for them) that switch a protection off whatever
# their value, and why.
DISABLING_FLAGS = {
    "--disable-security-middleware": "switches off MLflow's host, CORS and framing checks",
    "--gunicorn-opts": "runs the gunicorn server, which has none of MLflow's security checks",
    "--waitress-opts": "runs the waitress server, which has none of MLflow's security checks",
    "--dev": "runs the server in debug mode (reloader and tracebacks to any client)",
}
DISABLING_ENV = {
    "MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE": DISABLING_FLAGS["--disable-security-middleware"],
}
# Flags and variables whose value may weaken a protection: checked value by value.
CORS_FLAG, FRAME_FLAG = "--cors-allowed-origins", "--x-frame-options"
VALUED_ENV = {
    "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS": CORS_FLAG,
    "MLFLOW_SERVER_X_FRAME_OPTIONS": FRAME_FLAG,
}
FRAME_OPTIONS = ("DENY", "SAMEORIGIN")
# Hosts and origins nobody's allowlist should match: a pattern that matches them matches anyone.
_STRANGERS = ("attacker.invalid", "attacker.invalid:443", "203.0.113.7", "[2001:db8::7]:80")
_STRANGER_ORIGINS = ("https://attacker.invalid", "http://attacker.invalid:8080", "null")


def matches_anyone(pattern: str, origins: bool = False) -> bool:
    """Whether a wildcard pattern admits a stranger (MLflow matches patterns like fnmatch)."""
    probes = _STRANGER_ORIGINS if origins else _STRANGERS
    return any(fnmatchcase(probe, pattern.strip().lower()) for probe in probes)


def _flag_values(args: list[str]) -> Iterator[tuple[str, str, str | None]]:
    """(the argument as written, the flag, its value) for each flag in `args`."""
    for i, arg in enumerate(args):
        if not arg.startswith("-"):
            continue
        flag, equals, value = arg.partition("=")
        if equals:
            yield arg, flag, value
        elif i + 1 < len(args) and not args[i + 1].startswith("-"):
            yield arg, flag, args[i + 1]
        else:
            yield arg, flag, None


def value_problem(field: str, shown: str, flag: str, value: str) -> Problem | None:
    """A refusal if `value` of a CORS or framing setting lets any site in."""
    if flag == CORS_FLAG:
        wide = [o for o in value.split(",") if matches_anyone(o, origins=True)]
        if wide:
            return Problem(
                field,
                shown,
                f"origin {wide[0].strip()!r} lets any web site call MLflow with its users' "
                "logins; allowed: the exact origins of your own apps, such as "
                "https://notebook.example.com or https://*.example.com",
            )
    if flag == FRAME_FLAG and value.strip().upper() not in FRAME_OPTIONS:
        return Problem(
            field,
            shown,
            f"X-Frame-Options {value!r} lets other sites frame MLflow (clickjacking); "
            f"allowed: {' or '.join(FRAME_OPTIONS)}",
        )
    return None


def argument_problems(args: list[str]) -> list[Problem]:
    problems = []
    for arg, flag, value in _flag_values(args):
        if flag in DISABLING_FLAGS:
            problems.append(
                Problem(
                    "extra_args",
                    arg,
                    f"{DISABLING_FLAGS[flag]}; allowed: arguments that keep MLflow's "
                    "protections (there is no opt-out)",
                )
            )
        elif value is not None and (problem := value_problem("extra_args", arg, flag, value)):
            problems.append(problem)
    return problems


def environment_problems(field: str, env: dict[str, str]) -> list[Problem]:
    problems = []
    for name, value in env.items():
        if name in DISABLING_ENV:
            problems.append(
                Problem(
                    f"{field}.{name}",
                    value,
                    f"{DISABLING_ENV[name]}; allowed: leave it out (there is no opt-out)",
                )
            )
        elif name in VALUED_ENV:
            problem = value_problem(f"{field}.{name}", value, VALUED_ENV[name], value)
            problems += [problem] if problem else []
    return problems


def allowed_host_problems(hosts: list[str]) -> list[Problem]:
    return [
        Problem(
            "allowed_hosts",
            host,
            "matches any Host header, which switches off MLflow's DNS-rebinding check; "
            "allowed: host names, or a wildcard under a domain you own such as *.example.com",
        )
        for host in hosts
        if any(matches_anyone(part) for part in host.split(","))
    ]
