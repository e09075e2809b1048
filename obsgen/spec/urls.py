"""URL fields: a value Python's URL parser refuses (an unbalanced ``[`` host, a port that is no number)
is refused with a position, instead of failing the render that derives ports and hosts from it."""

from __future__ import annotations

from urllib.parse import urlsplit

from obsgen.diagnostics import Diagnostic, Severity
from obsgen.spec.loader import LoadedSpec, Loc
from obsgen.spec.models import Spec


def _fields(spec: Spec) -> list[tuple[Loc, str]]:
    b = spec.backends
    out: list[tuple[Loc, str]] = [
        (("backends", "tempo", "url"), b.tempo.url),
        (("backends", "tempo", "otlp_endpoint"), b.tempo.otlp_endpoint),
        (("backends", "prometheus", "url"), b.prometheus.url),
        (("backends", "prometheus", "remote_write_url"), b.prometheus.remote_write_url),
        (("backends", "grafana", "url"), b.grafana.url),
        (("alerting", "runbook_base_url"), spec.alerting.runbook_base_url),
    ]
    if b.loki is not None:
        out.append((("backends", "loki", "url"), b.loki.url))
    return out


def url_problem(text: str) -> str | None:
    """Why ``text`` (a URL or ``host:port``) cannot be read as one, or None."""
    try:
        split = urlsplit(text if "://" in text else f"//{text}")
        split.port  # noqa: B018 - raises for a port that is not a number in 0..65535
    except ValueError as exc:
        return str(exc)
    return None


def check(spec: Spec, loaded: LoadedSpec) -> list[Diagnostic]:
    """OBS208 for every URL field that does not parse as a URL (or host:port)."""
    out = []
    for loc, value in _fields(spec):
        problem = url_problem(value)
        if problem is not None:
            line, column = loaded.where(loc)
            out.append(Diagnostic("OBS208", f"{value!r} is not a URL: {problem}", Severity.ERROR, loaded.file,
                                  line, column, ".".join(str(p) for p in loc),
                                  hint="write scheme://host:port/path (or host:port), with a numeric port"))
    return out
