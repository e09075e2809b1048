"""Grafana 12.2's variable formats that obsgen's dashboards use, as Grafana's source writes them.

``regex``: ``escapeRegex`` of ``@grafana/data`` (``packages/grafana-data/src/text/string.ts``), which the
``regex`` entry of ``@grafana/scenes``'s ``formatRegistry.ts`` (v6.38.0) applies to a single value: a backslash
before each of ``\\ ^ $ * + ? . ( ) | [ ] { } /``. ``percentencode``: ``encodeURIComponentStrict`` of the same
file: ``encodeURIComponent`` and then ``! ' ( ) *`` as ``%XX``. An explicit format wins over the one a data
source passes (``sceneInterpolator.ts``: ``fmt2 || fmt3 || format``).
"""

from __future__ import annotations

import re
from urllib.parse import quote

_REGEX_META = re.compile(r"[\\^$*+?.()|\[\]{}/]")


def escape_regex(value: str) -> str:
    """Grafana's ``regex`` format of one value."""
    return _REGEX_META.sub(lambda m: "\\" + m.group(0), value)


def percent_encode(value: str) -> str:
    """Grafana's ``percentencode`` format of one value (``encodeURIComponent`` keeps ``A-Za-z0-9-_.!~*'()``;
    the strict form also encodes ``!'()*``)."""
    return quote(value, safe="-_.~")


FORMATS = {"regex": escape_regex, "percentencode": percent_encode}


def apply(fmt: str | None, value: str) -> str:
    """``value`` as ``${var:fmt}`` writes it; a format obsgen does not use is an error here, not a guess."""
    if fmt is None or fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one obsgen's dashboards use (they write ${{var:regex}})")
    return FORMATS[fmt](value)
