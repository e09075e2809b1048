"""Building blocks of the rules target: rules as data, annotation text, PromQL helpers, windows.

Rules are built as data (so the promtool tests can be derived from the same objects that are
written) and only turned into YAML by the template. Alert text is a sequence of parts: literal spec
text (escaped for Prometheus' Go templates), the alert's value with a humanize function, and labels of
the alert's series (a rule over many services names each by ``$labels``), so the same object renders the
annotation template and the exact string promtool must see.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from obsgen.emit.escape import go_template_text
from obsgen.emit.escape import promql_string as quote
from obsgen.plan.naming import BASE_WINDOW_MINUTES, BurnTier, burn_tiers, minutes_of, window_text  # noqa: F401 - re-exported

RULES_DIR = "prometheus/rules"
"""Where the rule files go in the output directory."""
TESTS_DIR = "prometheus/tests"
"""Where their promtool test files go."""

EVALUATION_INTERVAL = "1m"
"""Group interval; every window below is a whole number of evaluation steps."""


# ------------------------------------------------------------------------------------------------
# Numbers and selectors


def num(value: float) -> str:
    """A PromQL/YAML number literal: shortest exact-looking form (``0.0144``, ``1``, ``1e-05``)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and infinity are never written to a rule")
    rounded = round(value, 12)  # 14.4 * 0.001 is 0.014400000000000001 in binary
    text = repr(rounded)
    return text[:-2] if text.endswith(".0") else text


def selector(metric: str, matchers: list[tuple[str, str, str]] | None = None) -> str:
    """``metric{label op "value", ...}``; values are PromQL-quoted, never pasted."""
    if not matchers:
        return metric
    inner = ", ".join(f"{name}{op}{quote(value)}" for name, op, value in matchers)
    return f"{metric}{{{inner}}}"


def by(*labels: str) -> str:
    """A ``by (...)`` clause."""
    return f"by ({', '.join(labels)})"


# ------------------------------------------------------------------------------------------------
# Windows


# The windows of recorded series are naming truth (dashboards read the same ones): see obsgen.plan.naming.


# ------------------------------------------------------------------------------------------------
# Alert text: Go-template safe spec text plus the alert's value


class ValueFormat(StrEnum):
    """How the alert value is printed: the Prometheus template function that does it."""

    PERCENT = "humanizePercentage"
    DURATION = "humanizeDuration"
    NUMBER = "humanize"


class Value(NamedTuple):
    """The alert's ``$value`` in a given format."""

    format: ValueFormat


class Label(NamedTuple):
    """One label of the alert's series (``$labels.<name>``): what lets one rule over every service name
    the service it fires for. ``urlquery`` escapes it for a URL query value.

    Prometheus expands annotations with Go's text/template (template/template.go, ``Expand``: v3.5.0
    ``text_template.New(te.name).Funcs(te.funcMap)`` with ``missingkey=zero``), so text/template's builtin
    ``urlquery`` (``url.QueryEscape`` of the value, text/template/funcs.go) is available beside Prometheus'
    own functions; it is what makes a hostile service name a correct ``var-service=`` link.
    """

    name: str
    urlquery: bool = False


Part = str | Value | Label


go_template_literal = go_template_text


def template_text(parts: tuple[Part, ...]) -> str:
    """The annotation/label template Prometheus receives."""
    out = []
    for part in parts:
        if isinstance(part, Value):
            out.append("{{ $value | " + part.format.value + " }}")
        elif isinstance(part, Label):
            # a label name is [a-zA-Z_][a-zA-Z0-9_]*: a valid template field name as it is
            out.append("{{ $labels." + part.name + (" | urlquery" if part.urlquery else "") + " }}")
        else:
            out.append(go_template_literal(part))
    return "".join(out)


def go_urlquery(text: str) -> str:
    """Go's ``url.QueryEscape`` (net/url/url.go, ``escape(s, encodeQueryComponent)``): every byte but
    ``A-Za-z0-9-_.~`` as upper-case ``%XX`` of its UTF-8 bytes, and a space as ``+``."""
    return urllib.parse.quote_plus(text, safe="")


def expanded_text(parts: tuple[Part, ...], value: float, labels: Mapping[str, str] | None = None) -> str:
    """What Prometheus' template expansion prints for ``parts`` when the alert value is ``value`` and
    its series' labels are ``labels``."""
    out = []
    for part in parts:
        if isinstance(part, Value):
            out.append(humanize(part.format, value))
        elif isinstance(part, Label):
            # a missing label prints as the empty string: $labels is a map[string]string
            text = (labels or {}).get(part.name, "")
            out.append(go_urlquery(text) if part.urlquery else text)
        else:
            out.append(part)
    return "".join(out)


def go_g4(value: float) -> str:
    """Go's ``fmt.Sprintf("%.4g", v)`` (the same rules as C's ``%.4g``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"


def humanize(fmt: ValueFormat, value: float) -> str:
    """Prometheus' humanize, humanizePercentage and humanizeDuration template functions."""
    if fmt is ValueFormat.PERCENT:
        return go_g4(value * 100) + "%"
    if fmt is ValueFormat.DURATION:
        return _humanize_duration(value)
    return _humanize_number(value)


def _humanize_number(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return go_g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return go_g4(v) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return go_g4(v) + prefix


def _humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return go_g4(v)
    if v == 0:
        return go_g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        whole = int(v)
        seconds, minutes, hours, days = whole % 60, whole // 60 % 60, whole // 3600 % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{go_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{go_g4(v)}{prefix}s"


# ------------------------------------------------------------------------------------------------
# Synthetic traffic: what the promtool tests feed in, and what each alert predicts from it


class SpanFlow(NamedTuple):
    """Spans of one service/span name/kind at a constant rate.

    ``latency`` lists (bucket upper bound in seconds or inf, share of requests); shares sum to 1.
    """

    service: str
    span_name: str
    kind: str
    per_minute: float
    error_share: float = 0.0
    latency: tuple[tuple[float, float], ...] = ((math.inf, 1.0),)


class EdgeFlow(NamedTuple):
    """Service-graph requests between two nodes at a constant rate."""

    client: str
    server: str
    per_minute: float
    failed_share: float = 0.0


class CounterFlow(NamedTuple):
    """Any other counter growing at a constant rate (``per_minute`` may be 0: present but flat)."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    per_minute: float
    start: float = 0.0
    """First value; with ``per_minute`` 0 a constant (a gauge such as ``up``)."""


class Traffic(NamedTuple):
    """All synthetic input of one test case."""

    spans: tuple[SpanFlow, ...] = ()
    edges: tuple[EdgeFlow, ...] = ()
    counters: tuple[CounterFlow, ...] = ()


Prediction = Callable[[Traffic], list[tuple[tuple[tuple[str, str], ...], float]]]
"""Given constant traffic, the (expression labels, value) of every series the alert expr returns."""


class Recording(NamedTuple):
    """A recording rule."""

    record: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()

    def data(self) -> dict[str, object]:
        """The rule-file mapping."""
        out: dict[str, object] = {"record": self.record, "expr": self.expr}
        if self.labels:
            out["labels"] = dict(self.labels)
        return out


@dataclass(frozen=True)
class Alert:
    """An alerting rule with everything needed to test it."""

    name: str
    expr: str
    for_: str
    labels: tuple[tuple[str, tuple[Part, ...]], ...]
    summary: tuple[Part, ...]
    description: tuple[Part, ...]
    runbook_url: str
    dashboard_url: tuple[Part, ...]
    predict: Prediction = field(compare=False, repr=False)
    scenarios: tuple[Scenario, ...] = field(default=(), compare=False, repr=False)

    def data(self) -> dict[str, object]:
        """The rule-file mapping (annotations sorted by key, labels by name)."""
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {k: template_text(v) for k, v in sorted(self.labels)},
            "annotations": {
                "dashboard_url": template_text(self.dashboard_url),
                "description": template_text(self.description),
                "runbook_url": go_template_literal(self.runbook_url),
                "summary": template_text(self.summary),
            },
        }

    def expected(self, traffic: Traffic) -> list[dict[str, dict[str, str]]]:
        """The firing alerts promtool must report for ``traffic`` once ``for`` has elapsed."""
        out = []
        for expr_labels, value in self.predict(traffic):
            # templates see the expression's labels ($labels); rule labels then override them
            series = dict(expr_labels)
            labels = dict(series)
            labels.update({k: expanded_text(v, value, series) for k, v in self.labels})
            out.append({
                "exp_labels": dict(sorted(labels.items())),
                "exp_annotations": {
                    "dashboard_url": expanded_text(self.dashboard_url, value, series),
                    "description": expanded_text(self.description, value, series),
                    "runbook_url": self.runbook_url,
                    "summary": expanded_text(self.summary, value, series),
                },
            })
        return out


class Scenario(NamedTuple):
    """A named synthetic input for a test of one alert name."""

    name: str
    traffic: Traffic
    samples: tuple[tuple[str, str, float], ...] = ()
    """Recorded series to check too: (selector, its labels as ``{...}``, expected value)."""


Rule = Recording | Alert


class Group(NamedTuple):
    """A rule group."""

    name: str
    rules: tuple[Rule, ...]
    interval: str = EVALUATION_INTERVAL

    def data(self) -> dict[str, object]:
        """The rule-file mapping."""
        return {"name": self.name, "interval": self.interval, "rules": [r.data() for r in self.rules]}


class RuleFile(NamedTuple):
    """One rule file and the alert scenarios its test file exercises."""

    stem: str
    groups: tuple[Group, ...]
    read_by_alerts: bool = True
    """False for a file no alert reads (the declared calls): promtool tests do not load it."""
    note: str = "Recording rules every dashboard and alert reads."
    """The header note of a file without alerts."""

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Every alerting rule, in file order."""
        return tuple(r for g in self.groups for r in g.rules if isinstance(r, Alert))
