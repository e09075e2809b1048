"""The topology spec: one system's services, calls, endpoints, SLOs, sampling intent and backends.

Defaults make small specs small: ``services: {api: {}}`` is a complete spec. Everything a target
needs that the user did not say is derived in ``obsgen.plan``, not here.
"""

# No ``from __future__ import annotations`` here: pydantic would compile and evaluate every field's annotation
# string while collecting the fields, on every run (~5 ms); the few forward references are quoted instead.

from enum import StrEnum
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from obsgen.spec.traffic import Traffic
from obsgen.spec.types import (
    AttributeKey,
    DurationValue,
    Float,
    Ident,
    Int,
    Objective,
    Text,
    Version,
)


class SpecModel(BaseModel):
    """Base of every spec model: unknown keys are errors, values are immutable after load."""

    # the attribute docstrings become field descriptions when read: obsgen.spec.field_docs. defer_build: a
    # render validates through Spec alone, so building a validator per nested model at import is wasted
    # (~10 ms of every run, benchmarks/README.md)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)


# --------------------------------------------------------------------------------------------
# Stack versions


class Stack(SpecModel):
    """Versions of the tools the rendered configs must be accepted by."""

    collector: Version = "0.159.0"
    """OpenTelemetry Collector (contrib) version; decides component ids and available fields."""
    tempo: Version = "2.10.8"
    """Grafana Tempo version; 2.x and 3.x have incompatible config layouts."""
    grafana: Version = "12.2.0"
    """Grafana version the provisioning files and dashboards target."""
    prometheus: Version = "3.5.0"
    """Prometheus version the rule files target: 2.42.0-2.55.x or 3.0.0-3.13.x. 3.x respells the `le` of scraped
    buckets (`1` -> `1.0`), 2.x does not, so bucket selectors are written for the pinned major (and
    `collector.metrics_export`)."""


# --------------------------------------------------------------------------------------------
# Backends


class S3Storage(SpecModel):
    """S3-compatible object storage for Tempo's distributed mode. Secrets are environment variable names."""

    bucket: Text
    """Bucket name."""
    endpoint: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$", max_length=259)]
    """host:port, no scheme (Tempo's S3 client adds it)."""
    region: Text | None = None
    """Bucket region, when the store needs one."""
    insecure: StrictBool = False
    """Plain HTTP to the endpoint (e.g. an in-cluster MinIO)."""
    access_key_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=128)] = "S3_ACCESS_KEY"
    """Environment variable that holds the access key (rendered as ${NAME})."""
    secret_key_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=128)] = "S3_SECRET_KEY"
    """Environment variable that holds the secret key (rendered as ${NAME})."""


class TempoBackend(SpecModel):
    """Grafana Tempo: trace storage, service graph, and optionally span metrics."""

    url: Text = "http://tempo:3200"
    """Query URL Grafana uses."""
    otlp_endpoint: Text = "tempo:4317"
    """host:port of Tempo's OTLP gRPC receiver, where the Collector sends kept traces."""
    datasource_uid: Ident = "tempo"
    """Grafana datasource UID."""
    mode: Literal["monolithic", "distributed"] = "monolithic"
    """monolithic: one process, local disk. distributed: object storage (needs s3)."""
    retention: DurationValue = Field(default_factory=lambda: _d("336h"))
    """How long traces are kept."""
    s3: S3Storage | None = None
    """Object storage, required in distributed mode."""
    tenant: Ident | None = None
    """Tenant id when Tempo runs with multitenancy."""


class LokiBackend(SpecModel):
    """Grafana Loki: where services' logs go, linked from traces."""

    url: Text = "http://loki:3100"
    """Query URL Grafana uses."""
    datasource_uid: Ident = "loki"
    """Grafana datasource UID."""
    log_format: Literal["json", "logfmt", "otlp"] = "json"
    """json/logfmt: trace id inside the log line; otlp: trace_id as structured metadata."""
    trace_id_field: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)] = "trace_id"
    """Field or structured-metadata key that holds the trace id."""
    labels: dict[AttributeKey, Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]] = Field(
        default_factory=lambda: {"service.name": "service_name"}
    )
    """Span attribute -> Loki label, used for trace-to-logs links."""


class PrometheusBackend(SpecModel):
    """Prometheus (or a compatible store) holding span metrics and service-graph metrics."""

    url: Text = "http://prometheus:9090"
    """Query URL Grafana uses."""
    datasource_uid: Ident = "prometheus"
    """Grafana datasource UID."""
    remote_write_url: Text = "http://prometheus:9090/api/v1/write"
    """Where the Collector and Tempo's metrics-generator push metrics."""
    scrape_interval: DurationValue = Field(default_factory=lambda: _d("15s"))
    """Lowest useful query step (Grafana's timeInterval)."""
    retention: DurationValue | None = None
    """How long this Prometheus keeps samples (its --storage.tsdb.retention.time). The SLO rules read each
    objective's whole window: a shorter retention is a warning (OBS513). The local stack's Prometheus runs with
    it; unset, with what the longest SLO window needs (the window and a day) when that is over Prometheus'
    default of 15d."""


class GrafanaBackend(SpecModel):
    """Grafana, for dashboard links in alerts."""

    url: Text = "http://grafana:3000"
    """Base URL used in alert dashboard links."""
    dashboards_path: Text = "/var/lib/grafana/dashboards"
    """Directory the dashboard provider reads (where generated dashboards are mounted)."""
    folder: Text = "obsgen"
    """Folder the dashboards appear in."""


class Backends(SpecModel):
    """Where telemetry goes and the Grafana datasource UIDs that tie the artifacts together."""

    tempo: TempoBackend = Field(default_factory=TempoBackend)
    """Tempo."""
    loki: LokiBackend | None = Field(default_factory=LokiBackend)
    """Loki; null when logs are not in Loki."""
    prometheus: PrometheusBackend = Field(default_factory=PrometheusBackend)
    """Prometheus."""
    grafana: GrafanaBackend = Field(default_factory=GrafanaBackend)
    """Grafana."""


# --------------------------------------------------------------------------------------------
# Attributes and span metrics


class AttributeType(StrEnum):
    """Span attribute value type."""

    STRING = "string"
    INT = "int"
    DOUBLE = "double"
    BOOL = "bool"


class Attribute(SpecModel):
    """A span attribute the spec's policies, dimensions or dashboards use."""

    type: AttributeType = AttributeType.STRING
    """Value type."""
    description: Text | None = None
    """What it means."""
    values: list[Text] | None = None
    """Known values (for a string attribute), used for cardinality estimates."""
    cardinality: Annotated[Int, Field(ge=1, le=10_000_000)] | None = None
    """Expected number of distinct values, when values are not listed."""
    high_cardinality: StrictBool = False
    """Declared unbounded (ids, URLs); using it as a metrics dimension is a warning."""


class Dimension(SpecModel):
    """An extra span-metrics dimension."""

    name: AttributeKey
    """Attribute name (dots are turned into underscores in the label)."""
    default: Text | None = None
    """Value when the attribute is missing (otherwise the label is omitted)."""


class SpanMetrics(SpecModel):
    """RED metrics from spans: where they are computed and with which dimensions."""

    source: Literal["collector", "tempo"] = "collector"
    """collector: spanmetrics connector before sampling (unbiased). tempo: metrics-generator after sampling."""
    dimensions: list[AttributeKey | Dimension] = []
    """Extra dimensions (attribute names, or {name, default})."""
    histogram_buckets: list[DurationValue] | None = None
    """Latency buckets; every SLO latency threshold is added. Default: the source's own buckets."""
    cardinality_limit: Annotated[Int, Field(ge=0, le=100_000_000)] = 10_000
    """Collector aggregation_cardinality_limit (0 = unlimited)."""
    series_budget: Annotated[Int, Field(ge=1)] | None = None
    """Expected active series above which validate warns."""


# --------------------------------------------------------------------------------------------
# Services


class ServiceKind(StrEnum):
    """What a node in the topology is."""

    SERVICE = "service"
    EXTERNAL = "external"
    DATABASE = "database"
    CACHE = "cache"
    QUEUE = "queue"


class Endpoint(SpecModel):
    """An operation a service serves, written as its span name, e.g. ``POST /checkout``."""

    route: Annotated[str, Field(max_length=512)]
    """'METHOD /path' for HTTP (the span name and http.route), or any span name."""
    critical: StrictBool = False
    """Critical endpoints are always kept by the critical_endpoints sampling shorthand."""
    description: Text | None = None
    """What it does."""


class Call(SpecModel):
    """A declared call edge to another service, optionally to one endpoint of it."""

    service: Ident
    """Callee (a key of services)."""
    endpoint: Annotated[str, Field(max_length=512)] | None = None
    """Callee endpoint route, e.g. 'POST /charge'."""


class LatencyObjective(SpecModel):
    """A latency SLO: ``percentile`` % of requests finish within ``threshold``."""

    threshold: DurationValue
    """Latency threshold; becomes a histogram bucket boundary."""
    percentile: Objective = 99.0
    """Share of requests (in %) that must be faster than the threshold; a fraction (0.99) is rejected
    (OBS511). Low objectives cap burn-rate tiers like availability does (OBS512)."""


class SLO(SpecModel):
    """A service-level objective for a service, or one endpoint of it."""

    name: Ident
    """Unique name across the spec (used in rule labels and alert annotations)."""
    endpoint: Annotated[str, Field(max_length=512)] | None = None
    """Endpoint route the SLO covers; default: all server spans of the service."""
    availability: Objective | None = None
    """Availability objective in %, e.g. 99.9; a fraction (0.999) is rejected (OBS511). Below about 93%
    a burn factor x the budget exceeds 100% (14.4 x 10% for 90%), which no error ratio reaches: such a
    tier is capped at the highest possible burn, i.e. it fires when every request in both windows
    failed, and OBS512 warns. Capped rather than dropped, as the SRE workbook's tiers exist to page
    fast on a total outage, which dropping the 1h tier would leave to the 6h one (or to none)."""
    latency: LatencyObjective | None = None
    """Latency objective."""
    window: DurationValue = Field(default_factory=lambda: _d("30d"))
    """Compliance window (burn-rate alert windows scale with it)."""
    description: Text | None = None
    """Why this objective."""

    @model_validator(mode="after")
    def _has_objective(self) -> "SLO":
        if self.availability is None and self.latency is None:
            raise ValueError("an SLO needs an 'availability' objective, a 'latency' objective, or both")
        return self


class Service(SpecModel):
    """A node of the topology."""

    kind: ServiceKind = ServiceKind.SERVICE
    """service (instrumented by us), external, database, cache or queue."""
    service_name: Annotated[str, Field(max_length=256)] | None = None
    """The service.name it reports, when it differs from the key (any text)."""
    language: Text | None = None
    """Implementation language."""
    runtime: Text | None = None
    """Framework or runtime."""
    description: Text | None = None
    """What it does."""
    team: Text | None = None
    """Owning team (overrides alerting.labels.team for its alerts)."""
    endpoints: list[Annotated[str, Field(max_length=512)] | Endpoint] = []
    """Operations it serves: 'POST /checkout' or {route, critical}."""
    calls: list[Ident | Call] = []
    """Services it calls: a name or {service, endpoint}."""
    slos: list[SLO] = []
    """Its service-level objectives."""
    consumes: list[Ident] = []
    """Queues it consumes from (keys of kind queue): the service graph reports producer -> consumer."""
    # How callers' client spans name this node, which is the server name the service graph reports
    # (see obsgen.plan.service_graph for the connector's rules).
    db_name: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    """database/cache: the db.name (or db.namespace) its callers' client spans carry, e.g. the database
    `orders`; the service graph names the node after it. Default: service_name or the key for a database."""
    db_system: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    """database/cache: the db.system its callers' spans carry (e.g. `redis`); names the node when no db_name
    and no peer_service is set. Default: service_name or the key for a cache (Redis clients set no db.name)."""
    peer_service: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    """external/database/cache/queue: the peer.service its callers' client spans set; it names the node before
    db_system, and before db_name only when Tempo computes the service graph (the Collector's connector names a
    database by db_name). Default: service_name or the key for an external node."""
    messaging_system: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    """queue: the messaging.system producers set (e.g. `kafka`); names the node only for messages no declared
    consumer receives. Default: service_name or the key."""


# --------------------------------------------------------------------------------------------
# Sampling


class StatusCode(StrEnum):
    """Span status codes."""

    OK = "OK"
    ERROR = "ERROR"
    UNSET = "UNSET"


class LatencyPolicy(SpecModel):
    """Keep traces slower than a threshold (an explicit one, an SLO's, or the smallest SLO threshold)."""

    threshold: DurationValue | None = None
    """Explicit threshold."""
    slo: Ident | None = None
    """Use this SLO's latency threshold."""
    upper_threshold: DurationValue | None = None
    """Only keep traces faster than this too."""


class NumericAttributePolicy(SpecModel):
    """Keep traces whose numeric attribute lies in [min, max]."""

    key: AttributeKey
    """Attribute."""
    min: Int | None = None
    """Lower bound (inclusive)."""
    max: Int | None = None
    """Upper bound (inclusive)."""


class ProbabilisticPolicy(SpecModel):
    """Keep a share of traces by trace-id hash."""

    percentage: Annotated[Float, Field(ge=0, le=100, allow_inf_nan=False)]
    """Share of traces to keep, in %."""
    hash_salt: Text | None = None
    """Salt; use a different one per sampling layer."""


class StringAttributePolicy(SpecModel):
    """Keep traces whose string attribute equals (or matches) one of the values."""

    key: AttributeKey
    """Attribute."""
    values: Annotated[list[Annotated[str, Field(max_length=1024)]], Field(min_length=1)]
    """Exact values, or RE2 patterns when regex is true."""
    regex: StrictBool = False
    """Treat values as RE2 regular expressions (unanchored unless you write ^...$)."""


class RateLimitingPolicy(SpecModel):
    """Keep traces while a span budget lasts (a token bucket, burst 2x the rate).

    Every trace the processor evaluates spends its span count from the bucket, in arrival order,
    whether or not another policy keeps it (contrib tailsamplingprocessor internal/sampling/
    rate_limiting.go, v0.159.0: ``AllowN(now, SpanCount)``), so it keeps the first traces of each
    second, not a uniform share of all of them: use ``probabilistic`` for an unbiased baseline.
    """

    spans_per_second: Annotated[Int, Field(ge=1, le=10**9)]
    """Span budget per second."""


class BytesLimitingPolicy(SpecModel):
    """Keep traces up to a byte rate (token bucket)."""

    bytes_per_second: Annotated[Int, Field(ge=1, le=10**12)]
    """Byte budget per second."""
    burst_capacity: Annotated[Int, Field(ge=1, le=10**12)] | None = None
    """Bucket size (default 2x bytes_per_second)."""


class SpanCountPolicy(SpecModel):
    """Keep traces with a span count in [min, max]."""

    min: Annotated[Int, Field(ge=0, le=2**31 - 1)] | None = None
    """Minimum spans (inclusive)."""
    max: Annotated[Int, Field(ge=0, le=2**31 - 1)] | None = None
    """Maximum spans (inclusive)."""


class TraceStatePolicy(SpecModel):
    """Keep traces whose W3C tracestate key has one of the values."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_*/@-]{0,255}$")]
    """tracestate key."""
    values: Annotated[list[Text], Field(min_length=1)]
    """Accepted values."""


class BooleanAttributePolicy(SpecModel):
    """Keep traces whose boolean attribute has a value."""

    key: AttributeKey
    """Attribute."""
    value: StrictBool = True
    """Value to match."""


class OttlPolicy(SpecModel):
    """Keep traces where an OTTL condition holds on a span or span event."""

    span: list[Annotated[str, Field(min_length=1, max_length=4096)]] = []
    """Conditions over spans (any true keeps the trace)."""
    spanevent: list[Annotated[str, Field(min_length=1, max_length=4096)]] = []
    """Conditions over span events."""
    error_mode: Literal["ignore", "silent", "propagate"] = "ignore"
    """What an evaluation error does."""


class CriticalEndpointsPolicy(SpecModel):
    """Shorthand: keep traces hitting any endpoint marked critical (of the listed services, or all)."""

    services: list[Ident] | None = None
    """Restrict to these services."""


class Policy(SpecModel):
    """A named tail-sampling policy: a name plus exactly one kind key.

    Top-level policies combine with OR; ``drop`` policies are evaluated first and win.
    """

    name: Ident | None = None
    """Name shown in the Collector's per-policy metrics (required at top level)."""
    description: Text | None = None
    """Why the policy exists."""
    # shorthands
    errors: Literal[True] | None = None
    """Shorthand: keep every trace with an error span."""
    critical_endpoints: StrictBool | CriticalEndpointsPolicy | None = None
    """Shorthand: keep traces hitting critical endpoints."""
    # upstream policy types
    always_sample: Literal[True] | None = None
    """Keep everything."""
    latency: LatencyPolicy | None = None
    """Keep slow traces."""
    numeric_attribute: NumericAttributePolicy | None = None
    """Numeric attribute range."""
    probabilistic: ProbabilisticPolicy | None = None
    """Keep a percentage."""
    status_code: Annotated[list[StatusCode], Field(min_length=1)] | None = None
    """Keep traces with these span status codes."""
    string_attribute: StringAttributePolicy | None = None
    """String attribute values or regexes."""
    rate_limiting: RateLimitingPolicy | None = None
    """Span rate cap."""
    bytes_limiting: BytesLimitingPolicy | None = None
    """Byte rate cap."""
    span_count: SpanCountPolicy | None = None
    """Span count range."""
    trace_state: TraceStatePolicy | None = None
    """tracestate match."""
    boolean_attribute: BooleanAttributePolicy | None = None
    """Boolean attribute match."""
    ottl_condition: OttlPolicy | None = None
    """OTTL conditions."""
    and_: Annotated[list["Policy"], Field(min_length=1)] | None = Field(default=None, alias="and")
    """Keep when every sub-policy keeps."""
    not_: "Policy | None" = Field(default=None, alias="not")
    """Invert one sub-policy."""
    drop: Annotated[list["Policy"], Field(min_length=1)] | None = None
    """Drop the trace (whatever other policies say) when every sub-policy matches."""
    composite: "Composite | None" = None
    """Sub-policies sharing a span budget, first match wins."""
    share: Annotated[Float, Field(gt=0, le=100, allow_inf_nan=False)] | None = None
    """Inside a composite only: percent of the composite budget."""

    model_config = ConfigDict(populate_by_name=False, extra="forbid", frozen=True, allow_inf_nan=False,
                              defer_build=True)

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> "Policy":
        kinds = self.kinds()
        if len(kinds) != 1:
            found = ", ".join(kinds) if kinds else "none"
            raise ValueError(f"a policy needs exactly one kind key ({', '.join(POLICY_KINDS)}); found {found}")
        return self

    def kinds(self) -> list[str]:
        """Kind keys set on this policy (exactly one once validated)."""
        return [k for k in POLICY_KINDS if getattr(self, _attr(k)) is not None]

    @property
    def kind(self) -> str:
        """The policy's kind key as written in the spec."""
        return self.kinds()[0]


POLICY_KINDS: tuple[str, ...] = (
    "errors",
    "critical_endpoints",
    "always_sample",
    "latency",
    "numeric_attribute",
    "probabilistic",
    "status_code",
    "string_attribute",
    "rate_limiting",
    "bytes_limiting",
    "span_count",
    "trace_state",
    "boolean_attribute",
    "ottl_condition",
    "and",
    "not",
    "drop",
    "composite",
)


def _attr(kind: str) -> str:
    return {"and": "and_", "not": "not_"}.get(kind, kind)


def policy_value(policy: Policy) -> object:
    """The block under the policy's kind key."""
    return getattr(policy, _attr(policy.kind))


class Composite(SpecModel):
    """Sub-policies sharing ``max_spans_per_second``, tried in order; each needs a ``share``."""

    max_spans_per_second: Annotated[Int, Field(ge=1, le=10**9)]
    """Total span budget per second."""
    policies: Annotated[list[Policy], Field(min_length=1)]
    """Sub-policies in evaluation order, each with a name and a share."""


class Sampling(SpecModel):
    """Tail-sampling intent."""

    decision_wait: DurationValue = Field(default_factory=lambda: _d("10s"))
    """How long to buffer a trace before deciding."""
    decision_wait_after_root_received: DurationValue | None = None
    """Decide sooner once the root span arrived (Collector >= 0.144)."""
    expected_traces_per_second: Annotated[Int, Field(ge=1, le=10**8)] = 100
    """Peak new traces per second, for buffer sizing."""
    headroom: Annotated[Float, Field(ge=1, le=100, allow_inf_nan=False)] = 2.0
    """Safety factor on the buffer size."""
    route_attribute: AttributeKey = "http.route"
    """Attribute that carries the endpoint route (used by critical_endpoints)."""
    policies: list[Policy] = Field(default_factory=lambda: list(default_policies()))
    """Policies in order; a trace is kept when any keeps it and no drop policy drops it.

    Default: keep every trace with an error span (`errors-always`) and 10% of the rest by trace id
    (`baseline`). Keeping everything would buffer each trace for `decision_wait` only to keep 100%;
    write `[{name: keep-all, always_sample: true}]` when that is what you want."""


@cache
def default_policies() -> tuple[Policy, ...]:
    """What a spec without ``sampling.policies`` keeps: every error trace plus a 10% baseline.

    Built on first use, not at import: making a Policy builds its validator (and, recursively, those of
    every policy type), which a spec that lists its own policies never needs apart from Spec's."""
    return (
        Policy(name="errors-always", errors=True),
        Policy(name="baseline", probabilistic=ProbabilisticPolicy(percentage=10)),
    )


# --------------------------------------------------------------------------------------------
# Collector deployment and alerting


class Collector(SpecModel):
    """How the OpenTelemetry Collector is deployed."""

    replicas: Annotated[Int, Field(ge=1, le=1000)] = 1
    """Sampling replicas; more than one renders a load-balancing gateway tier and a sampler tier."""
    memory_limit_mib: Annotated[Int, Field(ge=64, le=1_048_576)] = 2048
    """Container memory limit; the memory_limiter and GOMEMLIMIT are sized from it. With a kubernetes section
    and this field unset, the sampler tier's limit follows its tail-sampling memory estimate instead: the
    smallest multiple of 64 MiB whose memory_limiter soft limit (limit_mib - spike_limit_mib, about 64% of
    the container) covers the estimate; the gateway keeps this default. Set explicitly, it is kept, and a
    sampler estimate above its soft limit is an error (OBS326; without kubernetes a warning, OBS410)."""
    metrics_export: Literal["remote_write", "scrape"] = "remote_write"
    """Push span metrics by remote write, or expose them for scraping on :8889."""
    resolver: Literal["dns", "k8s"] = "dns"
    """How the gateway finds sampler replicas."""
    sampler_service: Text = "otel-sampler-headless.observability.svc.cluster.local"
    """Headless service of the sampler tier (k8s resolver: name.namespace)."""
    metrics_host: Text = "otel-collector"
    """Host Prometheus scrapes the Collector's own metrics (:8888) from: the Collector, or with several
    replicas the gateway tier (the samplers are scraped through sampler_service)."""


class Alerting(SpecModel):
    """Where alerts go and what they link to."""

    runbook_base_url: Text = "https://runbooks.example.com/obsgen"
    """runbook_url = base + '/' + alert name."""
    labels: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)], Text] = Field(
        default_factory=dict
    )
    """Routing labels added to every alert (e.g. team)."""
    error_ratio_threshold: Annotated[Float, Field(gt=0, lt=1, allow_inf_nan=False)] = 0.05
    """Error-ratio alert of a service without a service-wide availability SLO (and of every declared
    edge): a ratio above this fires. A service with such an SLO is alerted by its burn rate only, which
    pages on the same events with less noise (SRE workbook, "Alerting on SLOs")."""
    min_request_rate: Annotated[Float, Field(ge=0, allow_inf_nan=False)] = 0.1
    """Requests per second below which no ratio alert (SLO burn rate, error ratio, failing edge) fires:
    at 6 requests a minute one failure is a 3% error ratio over 5m and pages a 99.9% SLO. Measured over
    the last 5m of the alert's own scope; 0 turns the guard off."""


# --------------------------------------------------------------------------------------------
# Kubernetes (the official Helm charts)

DnsLabel = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
CpuQuantity = Annotated[str, Field(pattern=r"^([1-9][0-9]{0,3}(\.[0-9]{1,3})?|0\.[0-9]{1,3}|[1-9][0-9]{0,6}m)$")]
ChartVersion = Version  # the same capped MAJOR.MINOR.PATCH as the tool versions
# Kubernetes label syntax (apimachinery validation: optional DNS-subdomain prefix, name and value <= 63).
K8sLabelKey = Annotated[str, Field(pattern=(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"), max_length=317)]
K8sLabelValue = Annotated[str, Field(pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")]


class KubernetesGateway(SpecModel):
    """The Collector gateway tier: a Deployment scaled by a HorizontalPodAutoscaler on CPU."""

    min_replicas: Annotated[Int, Field(ge=1, le=1000)] = 2
    """Fewest gateway pods (the autoscaler never goes below)."""
    max_replicas: Annotated[Int, Field(ge=1, le=1000)] = 10
    """Most gateway pods."""
    target_cpu_utilization: Annotated[Int, Field(ge=10, le=100)] = 70
    """Average CPU use (% of the request) the autoscaler aims for."""
    cpu: CpuQuantity = "1"
    """CPU request per gateway pod (Kubernetes quantity, e.g. 500m or 2)."""


class KubernetesSampler(SpecModel):
    """The Collector sampler tier: a StatefulSet behind a headless Service; memory request (and, unless
    collector.memory_limit_mib is set, limit) from the sizing rule."""

    cpu: CpuQuantity = "1"
    """CPU request per sampler pod."""
    trace_size_kib: Annotated[Float, Field(gt=0, le=100_000, allow_inf_nan=False)] = 20.0
    """Average in-memory size of one buffered trace (spans per trace x bytes per span), for the memory estimate."""
    base_memory_mib: Annotated[Int, Field(ge=32, le=1_048_576)] = 256
    """Memory a sampler uses before it buffers any trace (process, pipelines, exporter queues)."""


class TempoReplicas(SpecModel):
    """Replicas of the tempo-distributed components obsgen sizes (the chart's defaults for the rest)."""

    distributor: Annotated[Int, Field(ge=1, le=1000)] = 2
    """Distributors (receive OTLP from the samplers)."""
    live_store: Annotated[Int, Field(ge=1, le=1000)] = 2
    """Live stores (serve recent traces)."""
    block_builder: Annotated[Int, Field(ge=1, le=1000)] = 1
    """Block builders (one per Kafka partition)."""
    querier: Annotated[Int, Field(ge=1, le=1000)] = 2
    """Queriers."""
    query_frontend: Annotated[Int, Field(ge=1, le=1000)] = 1
    """Query frontends."""
    metrics_generator: Annotated[Int, Field(ge=1, le=1000)] = 1
    """Metrics generators."""


class ChartVersions(SpecModel):
    """Helm chart versions the values files are written for (and checked against)."""

    opentelemetry_collector: ChartVersion = "0.170.0"
    """open-telemetry/opentelemetry-collector chart."""
    tempo_distributed: ChartVersion = "3.3.0"
    """grafana/tempo-distributed chart."""
    grafana: ChartVersion = "12.11.1"
    """grafana/grafana chart."""


class Kubernetes(SpecModel):
    """Kubernetes target: values files for the official Helm charts and a PrometheusRule (in helm/)."""

    namespace: DnsLabel = "observability"
    """Namespace every release is installed in (the sampler Service must be in it)."""
    gateway_release: DnsLabel = "otel-gateway"
    """Helm release (and object name) of the Collector gateway tier."""
    tempo_release: DnsLabel = "tempo"
    """Helm release (and name prefix) of tempo-distributed."""
    grafana_release: DnsLabel = "grafana"
    """Helm release of Grafana."""
    gateway: KubernetesGateway = Field(default_factory=KubernetesGateway)
    """Gateway tier."""
    sampler: KubernetesSampler = Field(default_factory=KubernetesSampler)
    """Sampler tier (its replica count is collector.replicas)."""
    tempo: TempoReplicas = Field(default_factory=TempoReplicas)
    """Replicas per Tempo component."""
    object_storage: S3Storage | None = None
    """Tempo's bucket; default: backends.tempo.s3."""
    kafka_address: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$", max_length=259)] = "kafka:9092"
    """host:port of the Kafka cluster Tempo 3's distributors write to (the chart does not install one)."""
    charts: ChartVersions = Field(default_factory=ChartVersions)
    """Chart versions."""
    rule_labels: dict[K8sLabelKey, K8sLabelValue] = Field(default_factory=dict)
    """Labels on the PrometheusRule, e.g. the release label prometheus-operator's ruleSelector matches."""


# --------------------------------------------------------------------------------------------
# The spec


class Spec(SpecModel):
    """One system's tracing intent."""

    name: Ident | None = None
    """System name (default: the spec file's stem)."""
    description: Text | None = None
    """What the system is."""
    stack: Stack = Field(default_factory=Stack)
    """Tool versions the output targets."""
    backends: Backends = Field(default_factory=Backends)
    """Tempo, Loki, Prometheus, Grafana."""
    attributes: dict[AttributeKey, Attribute] = Field(default_factory=dict)
    """Business and semantic attributes used by policies, dimensions and dashboards."""
    services: Annotated[dict[Ident, Service], Field(min_length=1)]
    """The topology: every service, database, cache and external dependency."""
    span_metrics: SpanMetrics = Field(default_factory=SpanMetrics)
    """RED metrics from spans."""
    sampling: Sampling = Field(default_factory=Sampling)
    """Tail sampling."""
    collector: Collector = Field(default_factory=Collector)
    """Collector deployment."""
    alerting: Alerting = Field(default_factory=Alerting)
    """Alert routing and links."""
    kubernetes: Kubernetes | None = None
    """Kubernetes target: Helm values for the official charts; absent = no helm/ output."""
    traffic: Traffic | None = None
    """Traffic model for `obsgen sampling simulate`, `obsgen traffic` and the sampling report; absent = no
    sampling-report.md (simulate still runs, on defaults)."""


def _d(text: str) -> object:
    from obsgen.spec.durations import parse_duration

    return parse_duration(text)


# No model_rebuild() here: every model is built on its first use (defer_build), which resolves the forward
# references of the recursive policies then; Spec's build covers every model it nests in one schema.
