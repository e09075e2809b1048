"""Spec values the Collector reads as endpoints, checked the way the Collector checks them.

``backends.tempo.otlp_endpoint`` becomes the OTLP gRPC exporter's ``endpoint``, which
``configgrpc.ClientConfig.Validate`` refuses without a numeric port (``tempo`` fails ``otelcol
validate`` with "address tempo: missing port in address"); ``backends.prometheus.remote_write_url``
becomes the remote-write exporter's endpoint, which it parses with ``url.ParseRequestURI`` when it is
created ("invalid endpoint"). Both are found here, at the spec's position, instead of in the render.
"""

from __future__ import annotations

from collections.abc import Iterator

from obsgen.spec.models import Spec
from obsgen.targets.collector.strict.net import grpc_client_endpoint_error, request_uri_error

Loc = tuple[str | int, ...]


def endpoint_problems(spec: Spec) -> Iterator[tuple[str, Loc, str, str]]:
    """(code, location, message, hint) for each backend endpoint the pinned Collector would refuse."""
    tempo = spec.backends.tempo.otlp_endpoint
    problem = grpc_client_endpoint_error(tempo)
    if problem:
        yield ("OBS310", ("backends", "tempo", "otlp_endpoint"),
               f"the Collector's OTLP gRPC exporter refuses {tempo!r}: {problem}",
               "write host:port, e.g. 'tempo:4317' (Tempo's OTLP gRPC port)")
    url = spec.backends.prometheus.remote_write_url
    problem = request_uri_error(url)
    if problem:
        yield ("OBS311", ("backends", "prometheus", "remote_write_url"),
               f"the Collector's remote-write exporter cannot parse {url!r}: {problem}",
               "write an absolute URL, e.g. 'http://prometheus:9090/api/v1/write'")
