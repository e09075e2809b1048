"""Endpoint routes: ``POST /checkout`` is both the span name and, split, the HTTP method and route."""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import NamedTuple

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


class Route(NamedTuple):
    """A parsed endpoint route."""

    span_name: str
    method: str | None
    path: str | None


# Pure, and asked about the same few routes over and over (~80,000 times in a 1,000-service render).
@functools.lru_cache(maxsize=1 << 14)
def parse_route(route: str) -> Route:
    """Split ``METHOD /path`` (HTTP semantic conventions' span name) into its parts; other names pass through."""
    text = route.strip()
    method, _, rest = text.partition(" ")
    if method in HTTP_METHODS and rest.startswith("/"):
        return Route(text, method, rest)
    if text.startswith("/"):
        return Route(text, None, text)
    return Route(text, None, None)


class Protocol(StrEnum):
    """How an endpoint's spans say which endpoint they are."""

    HTTP = "http"  # http.route (server spans) and the span name "METHOD /route"
    GRPC = "grpc"  # rpc.service + rpc.method, span name "package.Service/Method"; no http.route
    UNKNOWN = "unknown"  # only the span name


# RPC semantic conventions: span name "$rpc.service/$rpc.method", rpc.service the fully qualified service.
_GRPC = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)/([A-Za-z_][A-Za-z0-9_]*)$")


def endpoint_protocol(route: str) -> Protocol:
    """HTTP for 'METHOD /path' or '/path', gRPC for 'package.Service/Method', else unknown."""
    parsed = parse_route(route)
    if parsed.path is not None:
        return Protocol.HTTP
    return Protocol.GRPC if _GRPC.match(parsed.span_name) else Protocol.UNKNOWN


def grpc_parts(route: str) -> tuple[str, str] | None:
    """(rpc.service, rpc.method) of a gRPC endpoint, None for other endpoints."""
    match = _GRPC.match(route.strip())
    return (match.group(1), match.group(2)) if match else None
