"""Stable Grafana dashboard UIDs and file names, derived from the spec alone.

A UID is what alert links, dashboard links and bookmarks point at, so it depends only on the system
name and the dashboard kind: never on order, time or anything else that could change between renders.
Every service shares the one templated service dashboard; a link picks the service with ``?var-service=``.
Grafana allows at most 40 characters of
``[a-zA-Z0-9-_]``; a readable form is used when it fits and is lossless, otherwise a truncated
form plus a hash of the full identity keeps distinct dashboards distinct.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from obsgen.emit.escape import url_component
from obsgen.plan import Plan

DashboardKind = Literal["overview", "service", "sampling"]
KINDS: tuple[str, ...] = ("overview", "service", "sampling")

MAX_UID = 40
DASHBOARDS_DIR = "grafana/dashboards"

_LOSSLESS = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_HASH_LEN = 8


def _readable(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def dashboard_uid(plan: Plan, service_key: str | None, kind: str) -> str:
    """The UID of one dashboard: ``kind`` is overview, sampling (``service_key`` None) or service.

    Examples: ``shop-overview``, ``shop-sampling``; every service's is the templated ``shop-service``
    (``templated_service_uid``), its ``service`` variable picks the service.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown dashboard kind {kind!r} (one of {', '.join(KINDS)})")
    if (kind == "service") != (service_key is not None):
        raise ValueError("a service dashboard needs a service key, and only a service dashboard takes one")
    if service_key is not None:
        if service_key not in plan.by_key:
            raise ValueError(f"unknown service {service_key!r}")
        return templated_service_uid(plan)
    parts = [plan.name, kind]
    readable = "-".join(parts)
    if len(readable) <= MAX_UID and all(_LOSSLESS.match(p) for p in parts):
        return readable
    return _hashed(parts)


def _hashed(parts: list[str]) -> str:
    # Not representable as-is (too long, upper case, dots, underscores): keep a readable prefix and
    # make it unique with a hash of the exact identity, NUL-separated so parts cannot run together.
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:_HASH_LEN]
    prefix = _readable("-".join(_readable(p) for p in parts))[: MAX_UID - _HASH_LEN - 1].rstrip("-")
    return f"{prefix}-{digest}"


def templated_service_uid(plan: Plan) -> str:
    """The UID of the one service dashboard every service shares (its ``service`` variable picks one).

    ``<system>-service``: never equal to a per-service ``<system>-svc-<key>`` nor to the overview's or
    the sampling dashboard's UID.
    """
    parts = [plan.name, "service"]
    readable = "-".join(parts)
    if len(readable) <= MAX_UID and _LOSSLESS.match(plan.name):
        return readable
    return _hashed(parts)


def service_dashboard_url(plan: Plan) -> str:
    """Absolute URL of the templated service dashboard, without its ``var-service`` query parameter."""
    return f"{plan.spec.backends.grafana.url.rstrip('/')}/d/{templated_service_uid(plan)}"


def service_dashboard_href(plan: Plan) -> str:
    """Grafana-relative path of the templated service dashboard (``/d/<uid>``), for links between dashboards."""
    return f"/d/{templated_service_uid(plan)}"


def service_dashboard_query(service_name: str) -> str:
    """``?var-service=<name>``: the URL query that opens the templated service dashboard on one service.

    For a name known at render time (alert annotations, static links): percent-encoded here, ``$`` included,
    so Grafana neither interpolates it nor reads it as anything but one value.
    """
    return f"?var-service={url_component(service_name)}"


def dashboard_file(plan: Plan, service_key: str | None, kind: str) -> str:
    """The artifact path of a dashboard, relative to the output directory."""
    return f"{DASHBOARDS_DIR}/{dashboard_uid(plan, service_key, kind)}.json"


def _service_query(plan: Plan, service_key: str | None) -> str:
    return "" if service_key is None else service_dashboard_query(plan.by_key[service_key].name)


def dashboard_url(plan: Plan, service_key: str | None, kind: str) -> str:
    """Absolute URL of a dashboard on the spec's Grafana (for alert annotations); a service's opens the
    templated dashboard on that service (``?var-service=``)."""
    base = plan.spec.backends.grafana.url.rstrip("/")
    return f"{base}/d/{dashboard_uid(plan, service_key, kind)}{_service_query(plan, service_key)}"
