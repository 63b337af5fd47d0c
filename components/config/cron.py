"""Cron schedules as a Kubernetes CronJob reads them, and whether one ever fires.

Kubernetes parses `spec.schedule` with the standard five fields (minute hour day-of-month month
day-of-week; ranges, steps, lists, `*` and `?`, month and weekday names) or a descriptor such as
`@weekly`. A schedule it accepts may still never fire: `17 3 30 2 *` asks for February 30th.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_EVERY = re.compile(r"@every ([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# The most days each month has (February 29 in leap years).
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
ALLOWED = (
    "five fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, weekday "
    "0-6 or SUN-SAT) such as 17 3 * * *, or one of " + ", ".join(DESCRIPTORS)
)


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, tuple(_MONTHS)),
    _Field("weekday", 0, 6, tuple(_WEEKDAYS)),
)


class CronError(ValueError):
    """A schedule Kubernetes refuses or that never fires; the text says which part and why."""


def _number(text: str, field: _Field) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.names.index(upper) + (1 if field.name == "month" else 0)
    if not text.isdigit():
        raise CronError(f"{field.name} {text!r} is not a number")
    value = int(text)
    if not field.low <= value <= field.high:
        raise CronError(f"{field.name} {value} is out of range {field.low}-{field.high}")
    return value


def _range(part: str, field: _Field) -> range:
    base, _, step_text = part.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) == 0:
            raise CronError(f"{field.name} step {step_text!r} is not a positive number")
        step = int(step_text)
    if base in ("*", "?"):
        return range(field.low, field.high + 1, step)
    first_text, dash, last_text = base.partition("-")
    first = _number(first_text, field)
    last = _number(last_text, field) if dash else (field.high if step_text else first)
    if last < first:
        raise CronError(f"{field.name} range {base!r} runs backwards")
    return range(first, last + 1, step)


def _values(text: str, field: _Field) -> set[int]:
    return {value for part in text.split(",") for value in _range(part, field)}


def check_schedule(schedule: str) -> str:
    """`schedule` if Kubernetes accepts it and it fires at least once a year; else CronError."""
    if schedule in DESCRIPTORS or _EVERY.fullmatch(schedule):
        return schedule
    parts = schedule.split()
    if len(parts) != len(_FIELDS):
        raise CronError(f"has {len(parts)} field{'' if len(parts) == 1 else 's'}, not 5")
    values = [_values(part, field) for part, field in zip(parts, _FIELDS, strict=True)]
    days, months, weekday = values[2], values[3], parts[4]
    # With a weekday field the job fires on those weekdays too (either field matching is
    # enough), so some day always comes.
    restricted_weekday = weekday not in ("*", "?", "*/1", "?/1")
    if not restricted_weekday and not any(d <= _DAYS_IN_MONTH[m - 1] for d in days for m in months):
        month_names = ", ".join(_MONTHS[m - 1] for m in sorted(months))
        raise CronError(
            f"day {', '.join(map(str, sorted(days)))} never occurs in {month_names}, so the job "
            "never runs"
        )
    return schedule
