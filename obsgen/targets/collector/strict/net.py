"""The Go address and URL rules the Collector applies to endpoints, as Python functions.

Each function reproduces one Go routine closely enough to give the same accept/reject answer on the
endpoints a config holds: ``net.SplitHostPort`` (``net/ipsock.go``), ``strconv.Atoi``, the endpoint
check of ``configgrpc.ClientConfig.Validate`` (Collector ``config/configgrpc`` v1.65.0) and
``url.ParseRequestURI`` (``net/url``), which the Prometheus remote-write exporter applies to its
endpoint when it is created (contrib ``exporter/prometheusremotewriteexporter/exporter.go`` v0.159.0:
"invalid endpoint").
"""

from __future__ import annotations

import re

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def split_host_port(hostport: str) -> tuple[str, str] | str:
    """``net.SplitHostPort``: (host, port), or Go's error text."""
    missing, too_many = "missing port in address", "too many colons in address"
    i = hostport.rfind(":")
    if i < 0:
        return f"address {hostport}: {missing}"
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            return f"address {hostport}: missing ']' in address"
        if end + 1 == len(hostport):
            return f"address {hostport}: {missing}"
        if end + 1 != i:
            return f"address {hostport}: {too_many if hostport[end + 1] == ':' else missing}"
        host, j, k = hostport[1:end], 1, end + 1
    else:
        host, j, k = hostport[:i], 0, 0
        if ":" in host:
            return f"address {hostport}: {too_many}"
    if "[" in hostport[j:]:
        return f"address {hostport}: unexpected '[' in address"
    if "]" in hostport[k:]:
        return f"address {hostport}: unexpected ']' in address"
    return host, hostport[i + 1:]


def atoi_ok(text: str) -> bool:
    """``strconv.Atoi`` succeeds: an optional sign, then decimal digits that fit an int64."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return False
    return -(2**63) <= int(text) < 2**63


def _authority_ok(authority: str) -> bool:
    """``url.Parse``'s host check, reduced to what endpoints hit: a port after the host must be digits."""
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        close = host.find("]")
        return close >= 0 and (host[close + 1:] == "" or re.fullmatch(r":[0-9]*", host[close + 1:]) is not None)
    _, colon, port = host.rpartition(":")
    return not colon or re.fullmatch(r"[0-9]*", port) is not None


def grpc_client_endpoint_error(endpoint: str) -> str:
    """Why ``configgrpc.ClientConfig.Validate`` refuses ``endpoint``; empty when it accepts it.

    ``unix://`` needs a path; ``http://``/``https://`` are stripped; another ``scheme://authority/path``
    keeps its path; what remains, when not empty, must be ``host:port`` with a port ``strconv.Atoi`` reads.
    """
    if endpoint.startswith("unix://"):
        return "unix socket path cannot be empty" if endpoint == "unix://" else ""
    if endpoint.startswith("http://"):
        rest = endpoint[len("http://"):]
    elif endpoint.startswith("https://"):
        rest = endpoint[len("https://"):]
    elif "://" in endpoint and _SCHEME.match(endpoint) and " " not in endpoint:
        after = endpoint.split("://", 1)[1].split("#", 1)[0]
        authority, slash, path = after.partition("/")
        rest = path.split("?", 1)[0] if _authority_ok(authority) else endpoint
        if not slash and _authority_ok(authority):
            rest = ""
    else:
        rest = endpoint
    if not rest:
        return ""
    parts = split_host_port(rest)
    if isinstance(parts, str):
        return parts
    return "" if atoi_ok(parts[1]) else f'invalid port "{parts[1]}"'


def listen_address_error(endpoint: str) -> str:
    """Why ``net.Listen("tcp", endpoint)`` refuses an address; empty when it is ``host:port`` (or empty)."""
    if not endpoint:
        return ""
    parts = split_host_port(endpoint)
    if isinstance(parts, str):
        return parts
    port = parts[1]
    if port and not re.fullmatch(r"[0-9]+", port):
        return ""  # a service name ("http") is looked up, which is not decided here
    if port and int(port) > 65535:
        return f"address {endpoint}: invalid port"
    return ""


def url_parse_error(raw: str) -> str:
    """Why ``url.Parse`` refuses ``raw``; empty when it parses (a relative reference is fine)."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "invalid control character in URL"
    if _SCHEME.match(raw):
        rest = raw.split(":", 1)[1]
        if rest.startswith("//"):
            authority = rest[2:].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
            if not _authority_ok(authority):
                return f'invalid port ":{authority.rpartition(":")[2]}" after host'
        return ""
    if raw.startswith(":"):
        return "missing protocol scheme"
    if ":" in raw.split("/", 1)[0].split("?", 1)[0]:
        return "first path segment in URL cannot contain colon"
    return ""


def request_uri_error(raw: str) -> str:
    """Why ``url.ParseRequestURI`` refuses ``raw``; empty when it parses."""
    if not raw:
        return "empty url"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "invalid control character in URL"
    if raw.startswith("/"):
        return ""
    if not _SCHEME.match(raw):
        return "missing protocol scheme" if raw.startswith(":") else "invalid URI for request"
    rest = raw.split(":", 1)[1]
    if not rest.startswith("/"):
        return "" if rest else "invalid URI for request"
    if rest.startswith("//"):
        authority = rest[2:].split("/", 1)[0].split("?", 1)[0]
        if " " in authority:
            return 'invalid character " " in host name'
        if not _authority_ok(authority):
            return f'invalid port ":{authority.rpartition(":")[2]}" after host'
    return ""
