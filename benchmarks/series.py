"""Synthetic span-metrics and service-graph series at the cardinality a spec declares, served for scraping.

The series a Collector rendered from the spec would export when every declared span occurs with both
status codes and every declared value of every dimension:

- span metrics, per instrumented service: one server span name per endpoint (one unnamed server span
  when it declares none) and one client span name per call, x ``STATUS_CODE_UNSET`` and
  ``STATUS_CODE_ERROR``, x every combination of the dimensions' declared values (``values``, else
  ``cardinality``, else 2 for a bool and 10 for an undeclared attribute); each combination is a calls
  counter and a duration histogram (a bucket per boundary, ``+Inf``, ``_sum``, ``_count``);
- the service graph, per declared call: request and failed-request counters and server and client
  duration histograms.

Histogram boundaries are read from the rendered Collector config (the connectors' own values), not from
obsgen's plan, so an estimate that disagrees with what the Collector is configured to write shows up.

``SyntheticTarget`` serves the series on a loopback port in the Prometheus text format; every scrape
advances the counters by one more interval of constant traffic (latencies in the
lowest buckets), so ``rate()`` and ``histogram_quantile()`` see live data. Errors are 0.01 % and every
request is within the second boundary, far inside any objective, so alert state series stay few.
"""

from __future__ import annotations

import http.server
import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

UNKNOWN_DIMENSION_VALUES = 10
STATUS_CODES = ("STATUS_CODE_UNSET", "STATUS_CODE_ERROR")
SERVER, CLIENT = "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT"

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration_seconds(text: str) -> float:
    """Seconds of a Go duration as the Collector config writes bucket boundaries (``250ms``, ``1.4s``)."""
    total, number = 0.0, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = next(u for u in sorted(_UNITS, key=len, reverse=True) if text.startswith(u, i))
        total += float(number) * _UNITS[unit]
        number = ""
        i += len(unit)
    return total


def le_text(seconds: float) -> str:
    """A boundary as Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` writes it in ``le``."""
    return repr(seconds).removesuffix(".0") if seconds == int(seconds) else repr(seconds)


@dataclass(frozen=True)
class Family:
    """One counter or histogram series family: its labels; ``les`` are bucket boundaries (histograms)."""

    name: str
    labels: tuple[tuple[str, str], ...]
    les: tuple[str, ...] | None = None
    error: bool = False

    def series_count(self) -> int:
        """Series in the exposition: 1 for a counter, buckets + ``+Inf`` + sum + count for a histogram."""
        return 1 if self.les is None else len(self.les) + 3


@dataclass
class Declared:
    """Every series family the spec declares."""

    families: list[Family] = field(default_factory=list)

    @property
    def series(self) -> int:
        """Series in one scrape of the exposition."""
        return sum(f.series_count() for f in self.families)

    def by_metric(self) -> dict[str, int]:
        """Series per metric name (histograms as ``_bucket``, ``_sum``, ``_count``)."""
        out: dict[str, int] = {}
        for f in self.families:
            if f.les is None:
                out[f.name] = out.get(f.name, 0) + 1
            else:
                for suffix, n in (("_bucket", len(f.les) + 1), ("_sum", 1), ("_count", 1)):
                    out[f.name + suffix] = out.get(f.name + suffix, 0) + n
        return out


def collector_buckets(files: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(span-metrics, service-graph) bucket boundaries of the rendered Collector configs, as ``le`` texts.

    The span-metrics connector is the one with ``histogram.explicit.buckets``, the service-graph
    connector the one with ``latency_histogram_buckets``, whatever their component ids and whichever
    config holds them (one config; or gateway and sampler tiers).
    """
    sm: list[str] | None = None
    sg: list[str] | None = None
    for path, text in sorted(files.items()):
        if not (path.startswith("otel-collector/") and path.endswith(".yaml")):
            continue
        for body in (yaml.safe_load(text).get("connectors") or {}).values():
            body = body or {}
            if "latency_histogram_buckets" in body:
                sg = body["latency_histogram_buckets"]
            elif "histogram" in body:
                sm = body["histogram"]["explicit"]["buckets"]
    if sm is None or sg is None:
        raise KeyError("the Collector config has no span-metrics or service-graph connector with buckets")
    return (tuple(le_text(go_duration_seconds(b)) for b in sm), tuple(le_text(go_duration_seconds(b)) for b in sg))


def _dimension_values(spec: Any, attribute: str) -> list[str]:
    attr = spec.attributes.get(attribute)
    if attr is not None and attr.values:
        return [str(v) for v in attr.values]
    count = UNKNOWN_DIMENSION_VALUES
    if attr is not None and attr.cardinality:
        count = attr.cardinality
    elif attr is not None and attr.type.value == "bool":
        return ["true", "false"]
    return [f"v{i}" for i in range(count)]


def declared_series(plan: Any, files: dict[str, str]) -> Declared:
    """The series families of a plan (obsgen's) with the buckets of its rendered Collector configs."""
    from obsgen.plan import naming

    sm_les, sg_les = collector_buckets(files)
    names = plan.span_metrics
    dims = [(label, _dimension_values(plan.spec, attr))
            for label, (attr, _default) in zip(plan.dimension_labels(), plan.dimensions, strict=True)]
    combos = list(itertools.product(*(values for _, values in dims))) or [()]
    duration = names.duration_bucket.removesuffix("_bucket")
    out = Declared()
    for svc in plan.instrumented:
        spans = [(ep.route.span_name, SERVER) for ep in svc.endpoints] or [("unnamed", SERVER)]
        spans += [(f"call {c.callee} {c.endpoint or ''}".strip(), CLIENT) for c in svc.calls]
        for span_name, kind in spans:
            for status in STATUS_CODES:
                for combo in combos:
                    labels = ((names.service_label, svc.name), (names.span_name_label, span_name),
                              (names.span_kind_label, kind), (names.status_code_label, status),
                              *((label, value) for (label, _), value in zip(dims, combo, strict=True)))
                    error = status == "STATUS_CODE_ERROR"
                    out.families.append(Family(names.calls, labels, error=error))
                    out.families.append(Family(duration, labels, sm_les, error=error))
    sg = naming.SERVICE_GRAPH
    for client, server in plan.declared_calls:
        labels = ((sg.client_label, client), (sg.server_label, server))
        out.families.append(Family(sg.request_total, labels))
        out.families.append(Family(sg.request_failed_total, labels, error=True))
        out.families.append(Family(sg.server_bucket.removesuffix("_bucket"), labels, sg_les))
        out.families.append(Family(sg.client_bucket.removesuffix("_bucket"), labels, sg_les))
    return out


def _labels_text(labels: Sequence[tuple[str, str]], extra: str = "") -> str:
    parts = [f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in labels]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}"


class Exposition:
    """The text format of ``declared`` at scrape ``k``: counters at ``k`` intervals of constant traffic.

    Lines with the same value are joined in one C-level ``str.join``, so a scrape of 650k series costs
    well under a second.
    """

    RATE = 10.0  # requests per second per series family (errors: 0.01 % of it)

    def __init__(self, declared: Declared, interval_seconds: float) -> None:
        self.interval = interval_seconds
        # (share of the family's requests, prefixes) per value class; a class is one value per scrape
        groups: dict[tuple[str, float], list[str]] = {}
        for fam in declared.families:
            rate = self.RATE * (0.0001 if fam.error else 1.0)
            if fam.les is None:
                groups.setdefault(("count", rate), []).append(fam.name + _labels_text(fam.labels))
                continue
            for j, le in enumerate((*fam.les, "+Inf")):
                share = 0.5 if j == 0 else 1.0  # half the requests within the first boundary, all within the second
                groups.setdefault(("count", rate * share), []).append(
                    fam.name + "_bucket" + _labels_text(fam.labels, f'le="{le}"'))
            groups.setdefault(("count", rate), []).append(fam.name + "_count" + _labels_text(fam.labels))
            groups.setdefault(("sum", rate), []).append(fam.name + "_sum" + _labels_text(fam.labels))
        self._groups = [(kind, rate, prefixes) for (kind, rate), prefixes in groups.items()]

    def text(self, k: int) -> bytes:
        """The exposition at scrape ``k`` (``k`` >= 1)."""
        chunks = []
        for kind, rate, prefixes in self._groups:
            value = rate * self.interval * k * (0.003 if kind == "sum" else 1.0)  # mean latency 3 ms
            tail = f" {value:.6g}\n"
            chunks.append(tail.join(prefixes) + tail)
        return "".join(chunks).encode()


class SyntheticTarget:
    """A loopback HTTP server answering every GET with the next scrape of ``exposition``."""

    def __init__(self, exposition: Exposition) -> None:
        self.exposition = exposition
        self.scrapes = 0
        self._lock = threading.Lock()
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with target._lock:
                    target.scrapes += 1
                    k = target.scrapes
                body = target.exposition.text(k)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="synthetic-target", daemon=True)

    @property
    def address(self) -> str:
        """``host:port`` for a scrape config."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> SyntheticTarget:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def iter_rule_files(files: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(path, text) of every rendered Prometheus rule file."""
    for path, text in sorted(files.items()):
        if path.startswith("prometheus/rules/"):
            yield path, text
