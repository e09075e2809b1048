"""Grafana's interpolation of a Prometheus panel query, as a running Grafana does before it sends it.

* Built-ins (Grafana's Prometheus data source, ``packages/grafana-prometheus``): ``$__interval`` is the time range
  divided by the panel's resolution, rounded by ``rangeUtil.roundInterval`` and never below the data source's
  ``timeInterval`` (its scrape interval); ``$__rate_interval`` is ``max($__interval + scrape interval,
  4 x scrape interval)`` in seconds (``60s``); ``$__range`` is the range in whole seconds (``3600s``), with
  ``_s``/``_ms`` variants.
* Dashboard variables ``$var``, ``${var}``, ``${var:format}`` and ``[[var]]``: each value the variable offers is
  substituted in turn (``dashboard_variables`` asks Prometheus, as ``label_values(...)`` does; a variable whose
  query names another is asked again for each of that one's values, as Grafana re-runs it). Without a format a
  value goes in as Grafana's ``interpolateQueryExpr`` writes it: a single-valued variable with
  ``prometheusRegularEscape`` (backslash and ``'`` escaped), a multi-value or include-all one with
  ``prometheusSpecialRegexEscape`` (regex metacharacters escaped for a ``=~`` matcher), several values as
  ``(a|b)``. With an explicit format (``${service:regex}``) the format writes it instead (``format_value``). A
  variable a row repeats over gives each repeated panel one value, never ``All``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests import grafana_formats

# $name, ${name}, ${name:format}, [[name]], [[name:format]]; a name starts with a letter or _ ($1 is no variable)
VARIABLE = re.compile(r"\$\{(?P<b>[A-Za-z_]\w*)(?::(?P<bf>[\w-]+))?\}|\[\[(?P<o>[A-Za-z_]\w*)(?::(?P<of>[\w-]+))?\]\]"
                      r"|\$(?P<p>[A-Za-z_]\w*)")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<metric>.+?)\s*,\s*)?(?P<label>[A-Za-z_]\w*)\s*\)\s*$")
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000, "y": 31_536_000_000}

# rangeUtil.roundInterval (packages/grafana-data/src/datetime/rangeutil.ts): (upper bound ms, rounded ms)
_ROUND = ((10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000), (3500, 2000),
          (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000), (90000, 60000),
          (180000, 120000), (450000, 300000), (1050000, 600000), (2100000, 1200000), (5400000, 3600000),
          (9000000, 7200000), (16200000, 10800000), (32400000, 21600000), (86400000, 43200000),
          (604800000, 86400000), (1814400000, 604800000), (3628800000, 2592000000))


def parse_duration_ms(text: str) -> int:
    """``15s``, ``1m30s``, ``500ms`` -> milliseconds."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * _UNIT_MS[u] for n, u in parts)


def format_ms(ms: int) -> str:
    """Milliseconds as Grafana writes an interval: the largest unit that divides it (``60000`` -> ``1m``)."""
    for unit in ("y", "w", "d", "h", "m", "s"):
        if ms % _UNIT_MS[unit] == 0 and ms >= _UNIT_MS[unit]:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    return f"{ms}ms"


def round_interval(ms: float) -> int:
    for bound, rounded in _ROUND:
        if ms <= bound:
            return rounded
    return 31_536_000_000


@dataclass(frozen=True)
class TimeContext:
    """What the built-ins depend on: the dashboard's range, the panel's resolution, the data source's interval."""

    range_ms: int
    scrape_interval_ms: int
    resolution: int = 1000  # maxDataPoints (Grafana uses the panel's width in pixels when unset)

    @property
    def interval_ms(self) -> int:
        return max(round_interval(self.range_ms / self.resolution), self.scrape_interval_ms)

    def builtins(self) -> dict[str, str]:
        rate_ms = max(self.interval_ms + self.scrape_interval_ms, 4 * self.scrape_interval_ms)
        range_s = round(self.range_ms / 1000)
        return {
            "__interval": format_ms(self.interval_ms), "__interval_ms": str(self.interval_ms),
            # getRateIntervalScopedVariable writes whole seconds: `${rateInterval}s`
            "__rate_interval": f"{rate_ms // 1000}s", "__rate_interval_ms": str(rate_ms),
            "__range": f"{range_s}s", "__range_s": str(range_s), "__range_ms": str(self.range_ms),
            "__auto": format_ms(self.interval_ms),
        }


def regular_escape(value: str) -> str:
    """prometheusRegularEscape (packages/grafana-prometheus/src/escaping.ts, classic behaviour)."""
    return value.replace("\\", "\\\\").replace("'", "\\\\'")


def special_regex_escape(value: str) -> str:
    """prometheusSpecialRegexEscape: regex metacharacters get a backslash, written twice inside a PromQL string."""
    return re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), value.replace("\\", "\\\\\\\\"))


@dataclass(frozen=True)
class Value:
    """One choice of a variable as Grafana holds it, and as the Prometheus data source writes it unformatted."""

    raw: str | tuple[str, ...]  # one value, or the list an include-all/multi choice stands for
    default: str  # interpolateQueryExpr's text (used for $var, ${var}, [[var]] without a format)


def format_value(value: Value, fmt: str | None) -> str:
    """``${var:fmt}``: an explicit format wins over the data source's function (@grafana/scenes v6.38.0,
    sceneInterpolator.ts ``fmt2 || fmt3 || format``); formatRegistry.ts writes ``raw`` as ``String(value)`` and
    ``regex`` with escapeRegex (tests/grafana_formats.py), several values as ``(a|b)``."""
    if fmt is None:
        return value.default
    values = [value.raw] if isinstance(value.raw, str) else list(value.raw)
    if fmt == "raw":
        return ",".join(values)  # JS String() of an array
    if fmt == "regex":
        escaped = [grafana_formats.escape_regex(v) for v in values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    raise ValueError(f"format {fmt!r}: the harness does not know how Grafana writes it (add it, from Grafana's source)")


@dataclass(frozen=True)
class Variable:
    """A dashboard variable and the values it offers (``All`` included when the dashboard allows it).

    ``repeated``: a row or panel repeats over it, so each copy holds one value (a scoped variable) and
    ``All`` is never substituted as such. ``lookup``: for a query that names other variables, its values given
    theirs (Grafana re-runs the query when they change); ``values`` then holds nothing.
    """

    name: str
    multi: bool
    include_all: bool
    values: tuple[str, ...]
    all_value: str | None = None
    repeated: bool = False
    depends: tuple[str, ...] = ()
    lookup: Callable[[Mapping[str, Value]], tuple[str, ...]] | None = None

    def choices(self, values: tuple[str, ...] | None = None) -> list[tuple[str, Value]]:
        """(label, value) for every choice a user (or a repeat) can make."""
        values = self.values if values is None else values
        escape = special_regex_escape if (self.multi or self.include_all) else regular_escape
        out = [(v, Value(v, escape(v))) for v in values]
        if self.include_all and values and not self.repeated:
            every = [escape(v) for v in values]
            out.append(("All", Value(tuple(values), self.all_value if self.all_value is not None
                                     else (every[0] if len(every) == 1 else "(" + "|".join(every) + ")"))))
        return out


def names(expr: str) -> set[str]:
    return {m.group("b") or m.group("o") or m.group("p") for m in VARIABLE.finditer(expr)}


def substitute(expr: str, values: Mapping[str, str | Value]) -> str:
    """Replace every variable; one that is neither a built-in nor in ``values`` is an error. A built-in (a plain
    string) is written as is; a dashboard variable's value with the occurrence's format."""

    def replace(m: re.Match[str]) -> str:
        name = m.group("b") or m.group("o") or m.group("p")
        if name not in values:
            raise KeyError(f"variable ${name} has no value in {expr!r}")
        value = values[name]
        return value if isinstance(value, str) else format_value(value, m.group("bf") or m.group("of"))

    return VARIABLE.sub(replace, expr)


LabelValues = Callable[[str, Sequence[str]], list[str]]  # (label, match[] selectors) -> values


def _repeated(dashboard: Mapping[str, Any]) -> set[str]:
    def panels(items: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels") or [])
    return {str(p["repeat"]) for p in panels(dashboard.get("panels") or []) if p.get("repeat")}


def _filtered(raw: Mapping[str, Any], values: Sequence[str]) -> tuple[str, ...]:
    if raw.get("regex"):
        # Grafana runs the filter as a JS regex (exec) on each value; Python's re reads obsgen's filters alike
        pattern = re.compile(str(raw["regex"])[1:-1] if str(raw["regex"]).startswith("/") else str(raw["regex"]))
        values = [v for v in values if pattern.search(v)]
    return tuple(sorted(set(values)))


def dashboard_variables(dashboard: Mapping[str, Any], label_values: LabelValues,
                        builtins: Mapping[str, str]) -> list[Variable]:
    """The dashboard's variables with the values Grafana would offer (query variables asked of Prometheus)."""
    out: list[Variable] = []
    repeated = _repeated(dashboard)
    for raw in (dashboard.get("templating") or {}).get("list") or []:
        kind, name = raw.get("type"), raw["name"]
        common = {"multi": bool(raw.get("multi")), "include_all": bool(raw.get("includeAll")),
                  "all_value": raw.get("allValue"), "repeated": name in repeated}
        if kind == "datasource":
            continue  # chooses a data source, never part of an expression's text
        if kind in ("custom", "interval"):
            query = raw.get("query") or ""
            values = [v.strip() for v in re.split(r"(?<!\\),", query) if v.strip()]
        elif kind in ("constant", "textbox"):
            values = [str(raw.get("query") or "")]
        elif kind == "query":
            query = raw.get("query")
            text = query.get("query", "") if isinstance(query, Mapping) else str(query or "")
            match = _LABEL_VALUES.match(text)
            if not match:
                raise ValueError(f"variable {name}: query {text!r} is not label_values(...)")
            label, metric = match.group("label"), match.group("metric")
            depends = tuple(sorted(names(text) - set(builtins)))
            if depends:
                def lookup(given: Mapping[str, Value], metric: str | None = metric, label: str = label,
                           raw: Mapping[str, Any] = raw) -> tuple[str, ...]:
                    selector = substitute(metric, {**builtins, **given}) if metric else None
                    return _filtered(raw, label_values(label, [selector] if selector else []))
                out.append(Variable(name, values=(), depends=depends, lookup=lookup, **common))
                continue
            metric = substitute(metric, builtins) if metric else None
            values = label_values(label, [metric] if metric else [])
        else:
            raise ValueError(f"variable {name}: type {kind!r} is not supported by the harness")
        out.append(Variable(name, values=_filtered(raw, values), **common))
    return out


def expansions(expr: str, variables: Sequence[Variable], builtins: Mapping[str, str],
               limit: int = 400) -> Iterator[tuple[dict[str, str], str]]:
    """(choice per variable, PromQL) for each combination of the values of the variables ``expr`` uses (and of
    the variables their queries use), each dependent variable's values asked for under its parents' choice."""
    by_name = {v.name: v for v in variables}
    needed: set[str] = set()
    todo = [n for n in names(expr) if n in by_name]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += [d for d in by_name[name].depends if d in by_name]
    order = [v for v in variables if v.name in needed]  # dashboard order: parents come first

    def walk(i: int, chosen: dict[str, tuple[str, Value]]) -> Iterator[dict[str, tuple[str, Value]]]:
        if i == len(order):
            yield dict(chosen)
            return
        var = order[i]
        values = var.lookup({n: v for n, (_, v) in chosen.items()}) if var.lookup else None
        for label, value in var.choices(values):
            chosen[var.name] = (label, value)
            yield from walk(i + 1, chosen)
            del chosen[var.name]

    for combo in itertools.islice(walk(0, {}), limit):
        values: dict[str, str | Value] = dict(builtins)
        values.update({n: v for n, (_, v) in combo.items()})
        used = names(expr)
        yield {n: label for n, (label, _) in combo.items() if n in used}, substitute(expr, values)
