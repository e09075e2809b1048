"""The ``--otlp URL`` of ``obsgen traffic``: what the OTLP exporter is given, and a reachability check.

gRPC takes ``host:port`` (``http://`` plaintext, ``https://`` TLS; port 4317 when none is given); OTLP/HTTP posts
to ``<URL>/v1/traces`` unless the URL already has a path, as the exporters' ``*_TRACES_ENDPOINT`` settings mean a
full URL (a bare ``host`` is ``http://host:4318``).
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
        """The endpoint as a URL, for messages and the summary."""
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if (scheme, self.port) in (("http", 80), ("https", 443)) else f":{self.port}"
        return f"{scheme}://{host}{port}{self.path if self.protocol == 'http' else ''}"

    def exporter_kwargs(self, timeout_s: float) -> dict[str, object]:
        """Keyword arguments of the protocol's OTLPSpanExporter."""
        if self.protocol == "grpc":
            host = f"[{self.host}]" if ":" in self.host else self.host
            return {"endpoint": f"{host}:{self.port}", "insecure": not self.tls, "timeout": timeout_s}
        return {"endpoint": self.url, "timeout": timeout_s}


def parse(url: str, protocol: str) -> Endpoint:
    """``URL`` as an Endpoint; ``host:port`` without a scheme is plaintext."""
    text = url.strip()
    bare = "://" not in text
    if bare:
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
    if port is None:
        # An OTLP/HTTP URL is a URL: its scheme's port. host:port and gRPC default to the OTLP port.
        port = DEFAULT_PORTS[protocol] if bare or protocol == "grpc" else {"http": 80, "https": 443}[parts.scheme]
    return Endpoint(protocol, parts.hostname, port, parts.scheme == "https", path)


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
