"""Spans as the processor sees them: synthetic spans turned into evaluator views, their OTLP protobuf size,
and one trace read from OTLP JSON (the Collector's file exporter, Tempo's trace-by-id API).

Sizes follow ``opentelemetry-proto`` (``trace/v1/trace.proto``, ``common/v1/common.proto``): the processor adds
``ProtoMarshaler.ResourceSpansSize`` of each batch a trace arrives in (``processor.go`` processTrace) and
``bytes_limiting`` measures ``TracesSize`` of the whole trace. Synthetic spans arrive as one ResourceSpans per
service (resource ``service.name``, one scope) per trace.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

from obsgen.sampling.ottl import SpanView
from obsgen.sampling.synth import Draw, SpanTemplate, SynthModel, SynthSpan, SynthTrace

KINDS = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
SCOPE_NAME = "obsgen"


def view(span: SynthSpan) -> SpanView:
    """The evaluator's view of a synthetic span (status ERROR when it failed, else UNSET)."""
    return SpanView(span.name, KINDS.get(span.kind, 0), 2 if span.error else 0, span.attributes,
                    {"service.name": span.service}, span.start_ns, span.end_ns, "")


def draw_views(model: SynthModel, draw: Draw) -> list[SpanView]:
    """``[view(s) for s in model.materialize(draw).spans]`` without making the spans: views carry no ids, and
    the ids (a BLAKE2b hash each) and SynthSpans were half of what the simulator spent making the views of each
    trace shape it evaluates. ``tests/sampling/test_simulate.py`` compares the two on every trace of runs."""
    templates = model.templates
    views = []
    for template, _, start, end, error in draw.spans:
        tmpl = templates[template]
        views.append(SpanView(tmpl.name, KINDS.get(tmpl.kind, 0), 2 if error else 0,
                              model.attributes(tmpl, error, draw.mix), {"service.name": tmpl.service}, start, end, ""))
    return views


# ---------------------------------------------------------------------------------------------------------
# protobuf sizes


def _varint(n: int) -> int:
    size = 1
    while n >= 0x80:
        n >>= 7
        size += 1
    return size


def _field(payload: int) -> int:
    """A length-delimited field with a one-byte tag."""
    return 1 + _varint(payload) + payload


def _any_value(value: object) -> int:
    if isinstance(value, bool):
        return 2  # tag + varint 0/1
    if isinstance(value, int):
        return 1 + _varint(value & ((1 << 64) - 1))
    if isinstance(value, float):
        return 9
    return _field(len(str(value).encode()))


def _key_value(key: str, value: object) -> int:
    return _field(_field(len(key.encode())) + _field(_any_value(value)))


def span_size(span: SynthSpan) -> int:
    """Encoded size of one Span message (inside its ScopeSpans)."""
    return _field(_span_fields(span))


def _span_fields(span: SynthSpan) -> int:
    """The encoded size of a Span's fields (the message without its own tag and length): a sum over the fields,
    one ``_key_value`` per attribute."""
    size = _field(16) + _field(8)  # trace_id, span_id
    if span.parent_span_id is not None:
        size += _field(8)
    size += _field(len(span.name.encode()))
    size += 2  # kind
    size += 9 + 9  # start and end time, fixed64
    size += sum(_key_value(k, v) for k, v in span.attributes.items())
    if span.error:
        size += _field(2)  # Status{code: ERROR}
    return size


def trace_size(spans: Iterable[SynthSpan]) -> int:
    """``TracesSize`` of a trace sent as one ResourceSpans per service."""
    by_service: dict[str, int] = {}
    for span in spans:
        by_service[span.service] = by_service.get(span.service, 0) + span_size(span)
    total = 0
    for service, spans_size in by_service.items():
        resource = _field(_key_value("service.name", service))
        scope = _field(_field(len(SCOPE_NAME.encode())))
        total += _field(resource + _field(scope + spans_size))
    return total


class TraceSizer:
    """``trace_size`` of a model's drawn traces without building their spans.

    A span's encoded size depends only on its template (service, name, kind, fixed attributes), whether it has
    a parent, whether it failed and the values of the mixes its template carries (``SynthModel.attributes``):
    ids and times have fixed encoded sizes. And a Span's fields add up (``_span_fields``): the fields of the
    span without its mix attributes, encoded once per (template, parent, failure), plus one ``_key_value`` per
    mix attribute, encoded once per (mix, value). (Several mixes carried on one root span would otherwise make
    nearly every root span a new one to encode: the shop's ~1,200 spans had ~140 distinct ones.) When a mix
    sets a key the template already sets, the attribute replaces the template's and the sum would be wrong:
    such a template's spans are encoded whole, once per distinct span. A trace's size then adds up per
    service as ``trace_size`` does. ``tests/sampling/test_simulate.py`` checks it against ``trace_size`` of
    the materialized spans, trace by trace."""

    def __init__(self, model: SynthModel) -> None:
        self.model = model
        self._bases: dict[tuple[int, bool, bool], int | None] = {}
        self._mix_sizes: dict[tuple[int, int], int] = {}
        self._whole: dict[tuple[int, bool, bool, tuple[int, ...]], int] = {}
        self._wrapping: dict[str, tuple[int, int]] = {}

    def size(self, draw: Draw) -> int:
        templates = self.model.templates
        mix = draw.mix
        by_service: dict[str, int] = {}
        for template, parent, _, _, error in draw.spans:
            tmpl = templates[template]
            shape = (template, parent >= 0, error)
            fields = self._bases.get(shape, -1)
            if fields == -1:
                fields = self._bases[shape] = self._base(tmpl, parent >= 0, error)
            if fields is None:  # a mix overrides one of the template's attributes
                size = self._whole_span(tmpl, shape, mix)
            else:
                for m in tmpl.mixes:
                    if mix[m] >= 0:
                        attribute = self._mix_sizes.get((m, mix[m]))
                        if attribute is None:
                            attribute = self._mix_sizes[m, mix[m]] = _key_value(*self.model.mix_attribute(m, mix[m]))
                        fields += attribute
                size = _field(fields)
            by_service[tmpl.service] = by_service.get(tmpl.service, 0) + size
        total = 0
        for service, spans_size in by_service.items():
            wrapping = self._wrapping.get(service)
            if wrapping is None:
                wrapping = self._wrapping[service] = (_field(_key_value("service.name", service)),
                                                      _field(_field(len(SCOPE_NAME.encode()))))
            resource, scope = wrapping
            total += _field(resource + _field(scope + spans_size))
        return total

    def _span(self, tmpl: SpanTemplate, has_parent: bool, error: bool, mix: tuple[int, ...]) -> SynthSpan:
        """A span of the template (ids and times of their fixed encoded sizes)."""
        return SynthSpan(bytes(8), bytes(8) if has_parent else None, tmpl.service, tmpl.name, tmpl.kind, 0, 0,
                         error, self.model.attributes(tmpl, error, mix))

    def _base(self, tmpl: SpanTemplate, has_parent: bool, error: bool) -> int | None:
        """The fields of the template's span without its mix attributes, or None when a mix key is also one of
        the template's own attributes."""
        span = self._span(tmpl, has_parent, error, (-1,) * len(self.model.mixes))
        if any(self.model.mixes[m].key in span.attributes for m in tmpl.mixes):
            return None
        return _span_fields(span)

    def _whole_span(self, tmpl: SpanTemplate, shape: tuple[int, bool, bool], mix: tuple[int, ...]) -> int:
        key = (*shape, tuple([mix[m] for m in tmpl.mixes]))
        size = self._whole.get(key)
        if size is None:
            size = self._whole[key] = span_size(self._span(tmpl, shape[1], shape[2], mix))
        return size


# ---------------------------------------------------------------------------------------------------------
# OTLP JSON


class OtlpJsonError(ValueError):
    """A file that is not one trace in OTLP JSON."""


def _id(text: object, size: int, what: str) -> bytes:
    """OTLP/JSON ids are hex (the spec); Tempo's API and older exporters write base64."""
    if not isinstance(text, str) or not text:
        raise OtlpJsonError(f"{what} is missing")
    try:
        if len(text) == 2 * size:
            return bytes.fromhex(text)
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise OtlpJsonError(f"{what} {text!r} is neither hex nor base64") from None
    if len(raw) != size:
        raise OtlpJsonError(f"{what} {text!r} is not {size} bytes")
    return raw


def _value(value: Any) -> object:
    if not isinstance(value, dict):
        return None
    if "stringValue" in value:
        return str(value["stringValue"])
    if "intValue" in value:
        return int(value["intValue"])  # int64 is a JSON string in OTLP/JSON
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    return None  # arrays, maps, bytes: no policy obsgen emits reads them


def _attributes(items: Any) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = _value(item.get("value"))
    return out


_STATUS = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
_KIND = {"SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3,
         "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5}


def _enum(value: object, names: dict[str, int]) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return names.get(value, 0)
    return 0


def read_trace(text: str) -> tuple[bytes, list[SpanView], int]:
    """(trace id, spans in file order, encoded size estimate) of the one trace in an OTLP JSON document:
    ``{"resourceSpans": [...]}`` (file exporter: one such object per line, also accepted), Tempo's
    ``{"batches": [...]}`` or ``{"trace": {...}}``."""
    documents = []
    try:
        documents.append(json.loads(text))
    except json.JSONDecodeError:
        try:
            documents = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise OtlpJsonError(f"not JSON: {exc}") from None
    resource_spans: list[Any] = []
    for doc in documents:
        if isinstance(doc, dict) and isinstance(doc.get("trace"), dict):
            doc = doc["trace"]
        if not isinstance(doc, dict):
            raise OtlpJsonError("expected a JSON object with resourceSpans (or batches)")
        found = doc.get("resourceSpans", doc.get("batches"))
        if not isinstance(found, list):
            raise OtlpJsonError("expected a JSON object with resourceSpans (or batches)")
        resource_spans.extend(found)
    ids: set[bytes] = set()
    spans: list[SpanView] = []
    size = 0
    for rs in resource_spans:
        if not isinstance(rs, dict):
            continue
        resource = _attributes((rs.get("resource") or {}).get("attributes"))
        scopes = rs.get("scopeSpans", rs.get("instrumentationLibrarySpans")) or []
        size += len(json.dumps(rs)) // 2  # a rough protobuf size: JSON is about twice as long
        for scope in scopes:
            for span in (scope or {}).get("spans") or []:
                ids.add(_id(span.get("traceId"), 16, "traceId"))
                start = int(span.get("startTimeUnixNano") or 0)
                end = int(span.get("endTimeUnixNano") or 0)
                status = span.get("status") or {}
                spans.append(SpanView(
                    str(span.get("name", "")), _enum(span.get("kind"), _KIND), _enum(status.get("code"), _STATUS),
                    _attributes(span.get("attributes")), resource, start, end, str(span.get("traceState") or "")))
    if not spans:
        raise OtlpJsonError("the document holds no spans")
    if len(ids) != 1:
        raise OtlpJsonError(f"expected the spans of one trace, found {len(ids)} trace ids")
    return ids.pop(), spans, size


def _json_value(value: object) -> dict[str, object]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


_KIND_NAMES = {v: k for k, v in _KIND.items()}


def to_otlp_json(trace: SynthTrace, epoch_ns: int = 0) -> dict[str, object]:
    """A synthetic trace as OTLP/JSON (``{"resourceSpans": [...]}``, one ResourceSpans per service, ids in hex),
    the shape the Collector's file exporter writes; ``epoch_ns`` is added to every time."""
    by_service: dict[str, list[dict[str, object]]] = {}
    for span in trace.spans:
        item: dict[str, object] = {
            "traceId": trace.trace_id.hex(), "spanId": span.span_id.hex(), "name": span.name,
            "kind": _KIND_NAMES[KINDS.get(span.kind, 0)],
            "startTimeUnixNano": str(epoch_ns + span.start_ns), "endTimeUnixNano": str(epoch_ns + span.end_ns),
            "attributes": [{"key": k, "value": _json_value(v)} for k, v in span.attributes.items()],
            "status": {"code": "STATUS_CODE_ERROR"} if span.error else {},
        }
        if span.parent_span_id is not None:
            item["parentSpanId"] = span.parent_span_id.hex()
        by_service.setdefault(span.service, []).append(item)
    return {"resourceSpans": [
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
         "scopeSpans": [{"scope": {"name": SCOPE_NAME}, "spans": spans}]}
        for service, spans in by_service.items()
    ]}
