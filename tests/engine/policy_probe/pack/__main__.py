"""A test-only policy pack: one mandatory and one advisory rule on RandomPassword's length."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

PASSWORD = "random:index/randomPassword:RandomPassword"
MINIMUM, RECOMMENDED = 12, 24


def _below(threshold: int, label: str) -> ResourceValidation:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        length = args.props.get("length")
        if args.resource_type == PASSWORD and length is not None and length < threshold:
            message = f"password length {int(length)} is below the {label} {threshold}"
            report_violation(message, None)

    return validate


PolicyPack(
    name="policy-probe",
    policies=[
        ResourceValidationPolicy(
            name="password-minimum-length",
            description="RandomPassword is at least 12 characters long.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_below(MINIMUM, "minimum"),
        ),
        ResourceValidationPolicy(
            name="password-recommended-length",
            description="RandomPassword should be at least 24 characters long.",
            enforcement_level=EnforcementLevel.ADVISORY,
            validate=_below(RECOMMENDED, "recommended"),
        ),
    ],
)
