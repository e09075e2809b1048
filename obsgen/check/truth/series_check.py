"""OBS707: every selector of every rule, dashboard panel and datasource query must name a series the rendered
producers can write (``obsgen.check.truth.connector_series``), with labels and label values they can set.

Selectors of recorded series are checked for the label values they carry through from their inputs (``client``,
``server``, ...); the Collector's own telemetry (``otelcol_*``), ``up`` and ``ALERTS`` are other producers' and
not this check's business. Each finding points at the spec item that decides the name: the node a wrong
``server`` value was meant to be, the dimension, or ``span_metrics.source``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection

from obsgen.check.crosscheck import Facts, Match, Selector
from obsgen.check.truth.connector_series import SeriesSpace, space_of
from obsgen.spec.models import Spec

Add = Callable[[str, tuple[str | int, ...], str, str], None]
# their own telemetry (Collector, Tempo), what Prometheus writes itself
_OTHER_PREFIXES = ("otelcol_", "tempo_")
_OTHER_NAMES = frozenset({"up", "ALERTS", "ALERTS_FOR_STATE"})
# a regex that is only an alternation of literal (escaped) texts
_LITERAL_ALTERNATION = re.compile(r"(?:[^\\.^$*+?()\[\]{}|]|\\.)*(?:\|(?:[^\\.^$*+?()\[\]{}|]|\\.)*)*")


def check(spec: Spec, facts: list[Facts], add: Add, reported: Collection[tuple[str, str]] = (), *,
          check_le: bool = True) -> None:
    """OBS707 for every selector the rendered producers cannot satisfy (``reported``: (artifact, where) of
    queries another check already reported; ``check_le``: False when missing boundaries were reported already)."""
    sections = [f.connector for f in facts if f.connector]
    if not sections:
        return
    space = space_of(sections, spec)
    recorded = {rec.name: rec for f in facts for rec in f.recordings}
    # a large render has ~100,000 selectors made of far fewer distinct (metric, matcher) pairs: judge each once
    cache: dict[tuple[str, Match], list[Problem]] = {}
    for f in facts:
        for q in f.queries:
            if (q.artifact, q.where) in reported:
                continue
            seen: set[str] = set()
            for sel in q.selectors:
                for loc, message, hint in _problems(sel, space, recorded, spec, check_le, cache):
                    if message not in seen:
                        seen.add(message)
                        add("OBS707", loc, f"{q.artifact}: {q.where}: {message}", hint)


Problem = tuple[tuple[str | int, ...], str, str]
_NONE: list[Problem] = []


def _problems(sel: Selector, space: SeriesSpace, recorded: dict[str, object], spec: Spec, check_le: bool,
              cache: dict[tuple[str, Match], list[Problem]]) -> list[Problem]:
    """What is wrong with one selector."""
    name = sel.metric_name
    if name is None or name in _OTHER_NAMES or name.startswith(_OTHER_PREFIXES):
        return _NONE
    if name not in space.metrics and name not in recorded:
        return [(("span_metrics", "source"),
                 f"{name!r} is not a series the rendered span-metrics/service-graph config can produce",
                 f"it produces: {', '.join(sorted(space.metrics)[:12])}")]
    out: list[Problem] = []
    client = server = None
    for m in sel.matchers:
        found = cache.get((name, m))
        if found is None:
            found = cache[(name, m)] = _matcher_problems(name, m, space, recorded, spec, check_le)
        if found:
            out += found
        if m.op == "=":
            if m.name == "client":
                client = m.value
            elif m.name == "server":
                server = m.value
    if client is not None and server is not None and (client, server) not in space.edges \
            and client in space.values.get("client", ()) and server in space.values.get("server", ()) \
            and not {"client", "server"} & _own_labels(name, recorded):
        out.append((_responsible(spec, "server", server),
                    f"edge {client!r} -> {server!r} on {name!r} is never reported by the rendered service-graph "
                    "config", "declare the call, or name the node as its spans do"))
    return out or _NONE


def _own_labels(name: str, recorded: dict[str, object]) -> frozenset[str]:
    """Labels a recording rule sets itself (not carried from the producers' series)."""
    rec = recorded.get(name)
    return getattr(rec, "rule_labels", frozenset()) if rec is not None else frozenset()


def _matcher_problems(name: str, m: Match, space: SeriesSpace, recorded: dict[str, object], spec: Spec,
                      check_le: bool) -> list[Problem]:
    label = m.name
    labels = space.metrics.get(name)
    if labels is None and label in _own_labels(name, recorded):
        return _NONE
    out: list[Problem] = []
    if labels is not None:
        if label not in labels and label != "__name__" and "*" not in labels:
            out.append((("span_metrics", "dimensions"), f"label {label!r} is never on {name!r}",
                        f"{name!r} carries {', '.join(sorted(labels))}"))
        if label == "le" and check_le and name in space.buckets:
            out += _le_problems(m, name, space.buckets[name])
    allowed = space.values.get(label)
    if allowed is not None:
        for value in _literal_values(m):
            if value not in allowed:
                out.append((_responsible(spec, label, value),
                            f"{label}={value!r} on {name!r}: the rendered config never produces that value for "
                            "the spans the topology declares",
                            f"it produces {label} in {{{', '.join(repr(v) for v in sorted(allowed)[:12])}}}"))
    return out or _NONE


def _literal_values(m: Match) -> list[str]:
    if m.op == "=":
        return [m.value] if m.value else []
    if m.op == "=~" and _LITERAL_ALTERNATION.fullmatch(m.value):
        return [re.sub(r"\\(.)", r"\1", v) for v in m.value.split("|") if v]
    return []


def _le_problems(m: Match, name: str, bounds: set[float]) -> list[tuple[tuple[str | int, ...], str, str]]:
    values = _literal_values(m)
    parsed = []
    for v in values:
        try:
            parsed.append(float(v))
        except ValueError:
            parsed.append(math.nan)
    if not values or any(_close(p, bounds) for p in parsed):
        return []
    return [(("span_metrics", "buckets"), f"le={m.value!r} on {name!r} is not a bucket boundary of the rendered "
             "histogram", f"boundaries: {', '.join(f'{b:g}' for b in sorted(bounds))}")]


def _close(value: float, bounds: set[float]) -> bool:
    return any(value == b or (math.isfinite(b) and abs(value - b) <= 1e-9 * max(1.0, abs(b))) for b in bounds)


def _responsible(spec: Spec, label: str, value: str) -> tuple[str | int, ...]:
    """The spec item a wrong node name most likely came from: the node whose key or service_name it is."""
    for key, svc in spec.services.items():
        if value in (key, svc.service_name, svc.db_name, svc.db_system, svc.peer_service, svc.messaging_system):
            return ("services", key)
    return ("services",) if label in ("client", "server", "service", "service_name") else ("span_metrics",)


