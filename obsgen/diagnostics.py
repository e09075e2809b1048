"""Diagnostics: what obsgen tells a user about their spec, with position, code and hint.

Modelled on yamllint/sqlfluff: every finding has a stable rule code, so users can grep docs and
CI logs for it, and a position, so editors can jump to it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is. ``--strict`` promotes warnings to failures."""

    ERROR = "error"
    WARNING = "warning"


# The catalogue of codes. One line each: the code never changes meaning once released.
CODES: dict[str, str] = {
    # 1xx: reading the file
    "OBS100": "file cannot be read",
    "OBS101": "file is not valid UTF-8",
    "OBS102": "YAML syntax error",
    "OBS103": "duplicate key",
    "OBS104": "unsupported YAML feature (tags, anchors over budget, several documents)",
    "OBS105": "file too large",
    "OBS106": "root is not a mapping",
    "OBS107": "nesting too deep",
    "OBS108": "too many values",
    # 2xx: shape of the spec
    "OBS200": "unknown key",
    "OBS201": "missing required key",
    "OBS202": "wrong type or value",
    "OBS203": "invalid name",
    "OBS204": "invalid duration",
    "OBS205": "value out of range",
    "OBS206": "policy must have exactly one kind",
    "OBS207": "spec file name cannot be written into generated files",
    "OBS208": "not a URL",
    "OBS213": "tool version not supported",
    # 3xx: references and topology
    "OBS300": "unknown service",
    "OBS301": "unknown endpoint",
    "OBS302": "unknown SLO",
    "OBS303": "duplicate name",
    "OBS304": "call cycle",
    "OBS305": "self call",
    "OBS306": "duplicate datasource UID",
    "OBS307": "call from a service that is not instrumented",
    "OBS308": "undeclared attribute",
    "OBS309": "nothing to do for an endpoint reference",
    "OBS310": "OTLP gRPC endpoint the Collector refuses (no port)",
    "OBS311": "remote-write URL the Collector cannot parse",
    "OBS312": "queue without a consumer",
    "OBS313": "endpoint protocol cannot be told",
    "OBS320": "Kubernetes target without a sampler tier",
    "OBS321": "sampler Service does not match the Kubernetes release",
    "OBS322": "no object storage for tempo-distributed",
    "OBS323": "two different Tempo buckets",
    "OBS324": "Tempo version does not match the tempo-distributed chart",
    "OBS325": "invalid autoscaling range",
    "OBS326": "sampler memory estimate above the memory limiter",
    "OBS327": "chart version the values were not checked against",
    "OBS328": "Tempo URL does not name the tempo-distributed Service",
    "OBS330": "local stack file or setting left out (spec text Docker Compose or Grafana cannot run as written)",
    # 4xx: sampling
    "OBS400": "regex rejected by Go's regexp (RE2 syntax)",
    "OBS401": "regex is not anchored",
    "OBS402": "composite sub-policy without rate allocation",
    "OBS403": "invalid numeric range",
    "OBS404": "policy has no effect",
    "OBS405": "no SLO latency threshold to default to",
    "OBS406": "sampling after span metrics is biased",
    "OBS407": "decision wait is risky",
    "OBS408": "setting not supported by the pinned Collector version",
    "OBS409": "attribute type does not fit the policy",
    "OBS410": "sampler memory above the memory limiter",
    "OBS411": "keep policy can never match a declared span",
    "OBS412": "critical endpoint no sampling policy keeps",
    "OBS413": "'not' of an attribute match also matches traces without the attribute",
    # 42x: the traffic model (obsgen sampling simulate, obsgen traffic)
    "OBS420": "latency percentiles out of order",
    "OBS421": "attribute value shares above 100%",
    "OBS422": "traffic attribute value does not fit the attribute",
    "OBS423": "traffic model sends no traffic",
    "OBS424": "traffic call the topology does not declare",
    "OBS425": "attribute takes its value from a derived attribute",
    "OBS426": "traffic model breaches an SLO objective",
    # 5xx: metrics, SLOs
    "OBS500": "SLO latency threshold is not a histogram bucket",
    "OBS501": "high-cardinality dimension",
    "OBS502": "dimension collides with a built-in label",
    "OBS503": "active series over budget",
    "OBS504": "histogram buckets not increasing",
    "OBS505": "no span-metrics cardinality guard",
    "OBS506": "Prometheus version not supported",
    "OBS507": "Prometheus version newer than obsgen knows",
    "OBS508": "too few samples in the shortest range window",
    "OBS511": "SLO objective written as a fraction",
    "OBS512": "SLO objective too low for a burn-rate tier",
    "OBS513": "Prometheus retention shorter than an SLO window",
    # 6xx: rule quality lint
    "OBS600": "alert name is not CamelCase",
    "OBS601": "alert lacks summary",
    "OBS602": "unknown severity",
    "OBS603": "rule group too large",
    # 7xx: cross-artifact consistency
    "OBS700": "metric not produced by the configured source",
    "OBS701": "label not produced by the configured source",
    "OBS702": "datasource UID not provisioned",
    "OBS703": "dashboard link does not resolve",
    "OBS704": "exemplar label mismatch",
    "OBS705": "rendered artifact rejected by its strict model",
    "OBS706": "service in an artifact is not in the topology",
    "OBS707": "series the rendered span-metrics or service-graph config cannot produce",
    # 8xx: lint of existing config files (obsgen lint)
    "OBS800": "config file kind cannot be told (pass --kind)",
    "OBS801": "unknown key in a config file",
    "OBS802": "wrong type or value in a config file",
    "OBS803": "missing required setting in a config file",
    "OBS804": "unknown or renamed component type for the pinned version",
    "OBS805": "broken reference or pipeline wiring in a config file",
    "OBS806": "config accepted by its tool but not doing what it seems (obsgen rule)",
    # 9xx: output
    "OBS900": "output path unsafe",
    "OBS901": "output write failed",
    "OBS902": "output directory locked by another render",
    "OBS903": "file not owned by obsgen in the way of a generated file",
    # 91x: obsgen verify (the real tools)
    "OBS910": "artifact rejected by its real tool",
    "OBS911": "required tool not found",
    "OBS912": "tool could not be run or timed out",
}


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a spec. ``line``/``column`` are 1-based; 0 means the input has no position."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    file: str = ""
    line: int = 0
    column: int = 0
    path: str = ""
    hint: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code}")

    @property
    def is_error(self) -> bool:
        """True for errors; warnings only fail under ``--strict``."""
        return self.severity is Severity.ERROR

    def format(self) -> str:
        """One-line text form: ``file:line:col: severity CODE path: message (hint)``.

        Control characters and line separators from the input are escaped, so a diagnostic is always
        exactly one line (plus its hint line) and cannot forge further lines in a CI log.
        """
        where = _one_line(self.file or "<spec>")
        if self.line:
            where += f":{self.line}:{self.column}"
        subject = f"{_one_line(self.path)}: " if self.path else ""
        text = f"{where}: {self.severity.value} {self.code} {subject}{_one_line(self.message)}"
        if self.hint:
            text += f"\n    hint: {_one_line(self.hint)}"
        return text

    def to_json_data(self) -> dict[str, object]:
        """Plain-data form for ``--format json``."""
        data = asdict(self)
        data["severity"] = self.severity.value
        del data["extra"]
        return data


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(text: str) -> str:
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


def sort_key(diag: Diagnostic) -> tuple[str, int, int, str, str]:
    """Stable order: by file, position, then code — output must not depend on check order."""
    return (diag.file, diag.line, diag.column, diag.code, diag.message)


def to_json(diags: list[Diagnostic], extra: dict[str, object] | None = None) -> str:
    """Serialise diagnostics (plus optional report sections) as a JSON document (sorted keys, stable order)."""
    payload: dict[str, object] = {"diagnostics": [d.to_json_data() for d in sorted(diags, key=sort_key)]}
    payload.update(extra or {})
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class SpecError(Exception):
    """Raised when a spec cannot be turned into a plan; carries the diagnostics that explain why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.format() for d in diagnostics))
        self.diagnostics = diagnostics
