"""Endpoint routes: ``POST /checkout`` is both the span name and, split, the HTTP method and route."""

from __future__ import annotations

from dataclasses import dataclass

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


@dataclass(frozen=True)
class Route:
    """A parsed endpoint route."""

    span_name: str
    method: str | None
    path: str | None


def parse_route(route: str) -> Route:
    """Split ``METHOD /path`` (HTTP semantic conventions' span name) into its parts; other names pass through."""
    text = route.strip()
    method, _, rest = text.partition(" ")
    if method in HTTP_METHODS and rest.startswith("/"):
        return Route(text, method, rest)
    if text.startswith("/"):
        return Route(text, None, text)
    return Route(text, None, None)
