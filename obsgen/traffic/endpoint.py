"""The ``--otlp URL`` of ``obsgen traffic``: what the OTLP exporter is given, and a reachability check.

gRPC takes ``host:port`` (``http://`` plaintext, ``https://`` TLS); OTLP/HTTP posts to ``<URL>/v1/traces``
unless the URL already has a path, as the exporters' ``*_TRACES_ENDPOINT`` settings mean a full URL.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"grpc": 4317, "http": 4318}


class EndpointError(Exception):
    """The URL cannot be used, or nothing accepts connections there."""


@dataclass(frozen=True)
class Endpoint:
    """Where to send: protocol, host, port, TLS or not, and the URL path for OTLP/HTTP."""

    protocol: str
    host: str
    port: int
    tls: bool
    path: str

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}{self.path if self.protocol == 'http' else ''}"

    def exporter_kwargs(self, timeout_s: float) -> dict[str, object]:
        """Keyword arguments of the protocol's OTLPSpanExporter."""
        if self.protocol == "grpc":
            host = f"[{self.host}]" if ":" in self.host else self.host
            return {"endpoint": f"{host}:{self.port}", "insecure": not self.tls, "timeout": timeout_s}
        return {"endpoint": self.url, "timeout": timeout_s}


def parse(url: str, protocol: str) -> Endpoint:
    """``URL`` as an Endpoint; ``host:port`` without a scheme is plaintext."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise EndpointError(f"--otlp {url}: the scheme must be http:// or https://, not {parts.scheme}://")
    try:
        port = parts.port
    except ValueError:
        raise EndpointError(f"--otlp {url}: the port is not a number from 0 to 65535") from None
    if not parts.hostname:
        raise EndpointError(f"--otlp {url}: no host")
    if protocol == "grpc" and parts.path not in ("", "/"):
        raise EndpointError(f"--otlp {url}: OTLP/gRPC takes host:port, not a path (use --protocol http for one)")
    path = parts.path if parts.path not in ("", "/") else "/v1/traces"
    return Endpoint(protocol, parts.hostname, port or DEFAULT_PORTS[protocol], parts.scheme == "https", path)


def check_reachable(endpoint: Endpoint, timeout_s: float = 5.0) -> None:
    """Fail early, with the reason, when nothing accepts a TCP connection at the endpoint.

    The exporters retry a refused connection with backoff for their whole timeout and then log it; a user who
    mistyped the port should hear it at once, not after every batch failed.
    """
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise EndpointError(f"cannot connect to {endpoint.url} ({endpoint.protocol}): {reason}") from None
