"""Constrained scalar types shared by the spec models.

Each type carries its rule in one place, and its JSON Schema, so editors get the same answer as
``obsgen validate``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from obsgen.emit.escape import text_problem
from obsgen.spec.durations import Duration, parse_duration

# Identifiers become file names, Grafana UIDs, rule names and YAML keys. They are kept to a
# conservative alphabet; the value a service reports as ``service.name`` may differ and is
# free text (see Service.service_name), escaped wherever it lands.
IDENT_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$"
# Attribute keys become Prometheus label names (dots to underscores) and OTTL paths.
ATTRIBUTE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]{0,127}$"
LABEL_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


def _no_dotdot(value: str) -> str:
    if ".." in value:
        raise ValueError("'..' is not allowed in a name")
    return value


def _printable(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    # every YAML line break (NEL, U+2028, U+2029 too): a description ends up in a YAML comment
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    if value != value.strip():
        raise ValueError("leading or trailing whitespace is not allowed")
    return value


MAX_DURATION_CHARS = 64


def _duration(value: object) -> Duration:
    if isinstance(value, Duration):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError("a duration must be a string such as '30s', '500ms' or '1h30m'")
    if len(value) > MAX_DURATION_CHARS:
        raise ValueError(f"a duration is at most {MAX_DURATION_CHARS} characters, such as '30s' or '1h30m'")
    return parse_duration(value)


Ident = Annotated[str, Field(pattern=IDENT_PATTERN), AfterValidator(_no_dotdot)]
AttributeKey = Annotated[str, Field(pattern=ATTRIBUTE_PATTERN)]
LabelName = Annotated[str, Field(pattern=LABEL_NAME_PATTERN)]
Text = Annotated[str, Field(max_length=1024), AfterValidator(_printable)]
# A pinned tool version. Each part is capped: Python refuses to turn more than 4300 digits into an int.
Version = Annotated[str, Field(pattern=r"^[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}$", max_length=29)]
DurationValue = Annotated[
    Duration,
    BeforeValidator(_duration),
    PlainSerializer(lambda d: d.go(), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(\d+(\.\d*)?(ns|us|µs|ms|s|m|h|d))+$",
            "maxLength": MAX_DURATION_CHARS,
            "description": "Go duration, e.g. 500ms, 30s, 1h30m (d for days is accepted too)",
        }
    ),
]
def _not_bool(value: object) -> object:
    # YAML 1.1 reads yes/no/on/off as booleans, and lax pydantic would turn true into 1.
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean (YAML reads yes/no/on/off as booleans)")
    return value


# Numbers: no booleans; numeric text is still accepted because PyYAML (YAML 1.1) reads 1e3 as a string.
Int = Annotated[int, BeforeValidator(_not_bool)]
Float = Annotated[float, BeforeValidator(_not_bool)]
Percent = Annotated[Float, Field(gt=0, le=100, allow_inf_nan=False)]
Objective = Annotated[Float, Field(gt=0, lt=100, allow_inf_nan=False)]
