"""OBS707: every selector of every rule, dashboard panel and datasource query must name a series the rendered
producers can write (``obsgen.truth.connector_series``), with labels and label values they can set.

Selectors of recorded series are checked for the label values they carry through from their inputs (``client``,
``server``, ...); the Collector's own telemetry (``otelcol_*``), ``up`` and ``ALERTS`` are other producers' and
not this check's business. Each finding points at the spec item that decides the name: the node a wrong
``server`` value was meant to be, the dimension, or ``span_metrics.source``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection

from obsgen.crosscheck import Facts, Match, Selector
from obsgen.spec.models import Spec
from obsgen.truth.connector_series import SeriesSpace, space_of

Add = Callable[[str, tuple[str | int, ...], str, str], None]
# their own telemetry (Collector, Tempo), what Prometheus writes itself
_OTHER_PREFIXES = ("otelcol_", "tempo_")
_OTHER_NAMES = frozenset({"up", "ALERTS", "ALERTS_FOR_STATE"})
# a regex that is only an alternation of literal (escaped) texts
_LITERAL_ALTERNATION = re.compile(r"(?:[^\\.^$*+?()\[\]{}|]|\\.)*(?:\|(?:[^\\.^$*+?()\[\]{}|]|\\.)*)*")


def check(spec: Spec, facts: list[Facts], add: Add, reported: Collection[str] = (), *, check_le: bool = True) -> None:
    """OBS707 for every selector the rendered producers cannot satisfy (``reported``: ``"artifact: where"`` of
    queries another check already reported; ``check_le``: False when missing boundaries were reported already)."""
    sections = [f.connector for f in facts if f.connector]
    if not sections:
        return
    space = space_of(sections, spec)
    recorded = {rec.name: rec for f in facts for rec in f.recordings}
    seen: set[tuple[str, str, str]] = set()
    for q in (q for f in facts for q in f.queries if f"{q.artifact}: {q.where}" not in reported):
        for sel in q.selectors:
            for loc, message, hint in _problems(sel, space, recorded, spec, check_le):
                if (q.artifact, q.where, message) in seen:
                    continue
                seen.add((q.artifact, q.where, message))
                add("OBS707", loc, f"{q.artifact}: {q.where}: {message}", hint)


def _problems(sel: Selector, space: SeriesSpace, recorded: dict[str, object], spec: Spec, check_le: bool
              ) -> list[tuple[tuple[str | int, ...], str, str]]:
    name = sel.metric_name
    out: list[tuple[tuple[str | int, ...], str, str]] = []
    if name is None or name.startswith(_OTHER_PREFIXES) or name in _OTHER_NAMES:
        return out
    if name in recorded:
        own = getattr(recorded[name], "rule_labels", frozenset())
        matchers = [m for m in sel.matchers if m.name not in own]
    elif name not in space.metrics:
        return [(("span_metrics", "source"),
                 f"{name!r} is not a series the rendered span-metrics/service-graph config can produce",
                 f"it produces: {', '.join(sorted(space.metrics)[:12])}")]
    else:
        labels = space.metrics[name]
        matchers = list(sel.matchers)
        for m in matchers:
            if "*" not in labels and m.name not in labels and m.name != "__name__":
                out.append((("span_metrics", "dimensions"), f"label {m.name!r} is never on {name!r}",
                            f"{name!r} carries {', '.join(sorted(labels))}"))
        for m in matchers:
            if check_le and m.name == "le" and name in space.buckets:
                out += _le_problems(m, name, space.buckets[name])
    equal: dict[str, str] = {}
    for m in matchers:
        allowed = space.values.get(m.name)
        if allowed is None:
            continue
        for value in _literal_values(m):
            if value not in allowed:
                out.append((_responsible(spec, m.name, value),
                            f"{m.name}={value!r} on {name!r}: the rendered config never produces that value for "
                            "the spans the topology declares",
                            f"it produces {m.name} in {{{', '.join(repr(v) for v in sorted(allowed)[:12])}}}"))
        if m.op == "=":
            equal[m.name] = m.value
    if "client" in equal and "server" in equal and (equal["client"], equal["server"]) not in space.edges \
            and equal["client"] in space.values.get("client", ()) and equal["server"] in space.values.get("server", ()):
        out.append((_responsible(spec, "server", equal["server"]),
                    f"edge {equal['client']!r} -> {equal['server']!r} on {name!r} is never reported by the "
                    "rendered service-graph config", "declare the call, or name the node as its spans do"))
    return out


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


