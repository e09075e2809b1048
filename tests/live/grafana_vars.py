"""Turning a Grafana panel expression into PromQL Prometheus can evaluate.

Grafana interpolates ``$__rate_interval`` and friends and dashboard variables before it sends a query;
the live tests do the same: built-in intervals get fixed values, service variables are expanded to each
service of the shop, and any other variable used as a label matcher's value makes that matcher match
every non-empty value. A variable anywhere else is an error the test reports.
"""

from __future__ import annotations

import re

from tests import grafana_formats

# What Grafana would send for a 1 h dashboard range at a 1 m step (a 15 s scrape interval).
BUILTINS: dict[str, str] = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "__auto": "1m",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "__interval_ms": "60000",
    "__rate_interval_ms": "60000",
}

# Every topology node, typed by hand (the values a $service variable would offer).
SERVICES = ("frontend", "main-service", "payments-service", "inventory-system", "crm-system", "payment-provider",
            "postgresql", "redis")

# $name, ${name}, ${name:format}, [[name]]; names start with a letter or _ (``$1`` in label_replace is not one)
_VAR = re.compile(r"\$\{(?P<b>[A-Za-z_]\w*)(?::(?P<bf>\w+))?\}|\[\[(?P<o>[A-Za-z_]\w*)(?::(?P<of>\w+))?\]\]"
                  r"|\$(?P<p>[A-Za-z_]\w*)")
# a label matcher whose quoted (or backtick raw) value contains a variable: name, operator, value
_MATCHER = re.compile(r'(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*'
                      r'(?:"(?P<value>(?:[^"\\]|\\.)*)"|`(?P<raw>[^`]*)`)')


class UnknownVariable(ValueError):
    """A dashboard variable outside a label matcher: no safe value to substitute."""


def _name(m: re.Match[str]) -> str:
    return m.group("b") or m.group("o") or m.group("p")


def variables(expr: str) -> set[str]:
    """Non-built-in variables an expression uses."""
    return {_name(m) for m in _VAR.finditer(expr)} - set(BUILTINS)


def is_service_variable(name: str) -> bool:
    """``service``, ``service_name``, ``services``...: expanded to each service."""
    return "service" in name.lower()


def instantiate(expr: str, values: dict[str, str]) -> str:
    """Substitute built-ins and ``values``; other variables in matcher values become ``=~".+"``."""

    def matcher(m: re.Match[str]) -> str:
        value = m.group("value") if m.group("value") is not None else m.group("raw")
        names = {_name(v) for v in _VAR.finditer(value)} - set(BUILTINS) - set(values)
        if not names:
            return m.group(0)
        if m.group("op") in ("=", "=~"):
            return f'{m.group("name")}=~".+"'
        return f'{m.group("name")}!~"^$"' if m.group("op") in ("!=", "!~") else m.group(0)

    expr = _MATCHER.sub(matcher, expr)

    def replace(m: re.Match[str]) -> str:
        name = _name(m)
        if name in BUILTINS:
            return BUILTINS[name]
        if name in values:
            fmt = m.group("bf") or m.group("of")
            # ${service:regex}: the value as Grafana's format writes it (tests/grafana_formats.py)
            return grafana_formats.apply(fmt, values[name]) if fmt else values[name]
        raise UnknownVariable(f"Grafana variable ${name} outside a label matcher: {expr}")

    return _VAR.sub(replace, expr)


def expansions(expr: str, services: tuple[str, ...] = SERVICES) -> list[str]:
    """The PromQL expressions Grafana could send for this panel expression (one per service if it has one)."""
    service_vars = {v for v in variables(expr) if is_service_variable(v)}
    if not service_vars:
        return [instantiate(expr, {})]
    return [instantiate(expr, dict.fromkeys(service_vars, svc)) for svc in services]
