"""The starter spec's text: a commented spec that validates and renders as written.

Every value (names from flags, policies and dimensions from a Collector config) is written by the real
YAML serialiser (``obsgen.emit.commented_yaml.dump_yaml``, the YAML-value sink of ``obsgen.emit.escape``'s table), so a
service called ``null``, ``123`` or ``a: b`` stays a string key; every comment that carries outside text
goes through ``obsgen.emit.escape.yaml_comment`` after the characters no comment can hold are shown escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from obsgen.emit.commented_yaml import dump_yaml
from obsgen.emit.escape import text_problem, yaml_comment
from obsgen.spec.models import Stack
from obsgen.starter.collector_import import Imported, Skipped


@dataclass(frozen=True)
class Starter:
    """What the starter spec holds."""

    name: str
    services: tuple[str, ...]
    calls: tuple[tuple[str, str], ...]
    schema_ref: str
    spec_display: str
    imported: Imported | None = None
    # policies moved out after the spec check refused them: (line in the config, what, why)
    refused: tuple[Skipped, ...] = field(default_factory=tuple)


def comment(text: str) -> str:
    """``# text`` with anything a one-line comment cannot (or should not) hold shown as an escape."""
    shown = "".join(ch if text_problem(ch) is None else f"\\u{ord(ch):04x}" for ch in text)
    return f"# {yaml_comment(shown)}".rstrip()


def _block(data: object, indent: int) -> str:
    pad = " " * indent
    return "".join(f"{pad}{line}\n" for line in dump_yaml(data).splitlines())


def _header(starter: Starter) -> list[str]:
    lines = [
        comment(f"yaml-language-server: $schema={starter.schema_ref}"),
        "#",
        comment(f"{starter.name}: an obsgen spec, written by `obsgen init`. This one file drives the OpenTelemetry"),
        "# Collector, Tempo, Grafana and Prometheus configs. Edit it, then:",
        comment(f"  obsgen validate {starter.spec_display}"),
        comment(f"  obsgen render {starter.spec_display}"),
        "# Every field is documented by `obsgen docs`; editors complete them from the schema above.",
    ]
    if starter.imported is not None:
        lines.append(comment(f"Sampling policies and span-metrics dimensions imported from {starter.imported.source}."))
    return lines


def _services(starter: Starter) -> list[str]:
    lines = [
        "",
        "# The topology: every service, database, cache, queue and external dependency, by key. Keys become file",
        "# names and Grafana UIDs ([A-Za-z0-9._-]); `service_name:` sets the service.name a service reports.",
        "services:",
    ]
    callees: dict[str, list[str]] = {name: [] for name in starter.services}
    for caller, callee in starter.calls:
        callees[caller].append(callee)
    for name in starter.services:
        body: dict[str, object] = {"calls": callees[name]} if callees[name] else {}
        lines.append(_block({name: body}, 2).rstrip("\n"))
    lines += [
        "  # More nodes: uncomment and adapt. Endpoints are span names; critical ones are always kept by the",
        "  # critical_endpoints sampling policy, and SLOs get burn-rate alerts and dashboards.",
        "  # checkout:",
        "  #   endpoints:",
        "  #     - route: POST /checkout",
        "  #       critical: true",
        "  #     - GET /health",
        "  #   slos:",
        "  #     - name: checkout-availability",
        "  #       availability: 99.9",
        "  #     - name: checkout-latency",
        "  #       latency: {threshold: 500ms, percentile: 99}",
        "  #   calls: [orders-db]",
        "  # orders-db:",
        "  #   kind: database    # also: cache, queue, external",
    ]
    return lines


def _attributes(imported: Imported | None) -> list[str]:
    lines = ["", "# Span attributes the policies, dimensions and dashboards use (semantic-convention ones such as",
             "# http.route need no declaration). Declare business attributes with their type."]
    if imported is None or not imported.attributes:
        return [*lines, "attributes: {}", "  # user.country:", "  #   values: [US, BR, DE]"]
    return [*lines, "attributes:", _block(imported.attributes, 2).rstrip("\n")]


def _skipped(items: list[Skipped], source: str) -> list[str]:
    if not items:
        return []
    lines = [comment(f"Not imported from {source} (the spec cannot say these):")]
    for item in sorted(items, key=lambda skipped: skipped.line):
        lines.append(comment(f"  line {item.line}: {item.what}: {item.reason}"))
    return lines


def _span_metrics(imported: Imported | None) -> list[str]:
    lines = ["", "# RED metrics (rate, errors, duration) from every span, computed by the Collector before sampling,",
             "# so rates and error ratios count every request. Each dimension multiplies the series count."]
    section: dict[str, object] = {"source": "collector", "dimensions": []}
    if imported is not None:
        section.update(imported.span_metrics)
        if not imported.span_metrics_found:
            lines.append(comment(f"{imported.source} has no span-metrics connector: obsgen's defaults."))
        lines += _skipped([s for s in imported.skipped if s.section == "span_metrics"],
                          imported.source)
    return [*lines, _block({"span_metrics": section}, 0).rstrip("\n")]


def _sampling(starter: Starter) -> list[str]:
    imported = starter.imported
    lines = ["", "# Tail sampling: a trace is kept when any policy keeps it and no drop policy drops it."]
    section: dict[str, object] = {"decision_wait": "10s"}
    # obsgen's default_policies(), written out so the user sees (and edits) what is kept
    policies: list[dict[str, object]] = [{"name": "errors-always", "errors": True},
                                         {"name": "baseline", "probabilistic": {"percentage": 10}}]
    if imported is not None:
        section.update(imported.sampling)
        skipped = [s for s in imported.skipped if s.section == "sampling"]
        skipped += list(starter.refused)
        if not imported.sampling_found:
            lines.append(comment(f"{imported.source} has no tail_sampling processor: obsgen's default policies."))
        elif imported.policies:
            policies = imported.policies
        else:
            lines.append(comment("No policy could be imported: obsgen's default policies, until you write yours."))
        lines += _skipped(skipped, imported.source)
        lines += [comment(f"Left out, same decisions: {note}") for note in imported.notes]
    else:
        lines += ["# Default: every trace with an error, plus 10% of the rest by trace id. More policy types:",
                  "# latency, string_attribute, numeric_attribute, critical_endpoints, rate_limiting, composite..."]
    section["policies"] = policies
    return [*lines, _block({"sampling": section}, 0).rstrip("\n")]


def starter_text(starter: Starter) -> str:
    """The whole starter spec."""
    stack = Stack().model_dump(mode="json")
    lines = [
        *_header(starter),
        _block({"name": starter.name}, 0).rstrip("\n"),
        "",
        "# Tool versions the rendered configs are written for (obsgen's defaults).",
        _block({"stack": stack}, 0).rstrip("\n"),
        *_services(starter),
        *_attributes(starter.imported),
        *_span_metrics(starter.imported),
        *_sampling(starter),
    ]
    return "\n".join(lines) + "\n"
