"""System overview: the observed service graph beside the declared topology, every service, every SLO."""

from __future__ import annotations

from obsgen.plan import Plan, naming
from obsgen.targets.grafana.dashboards.field_config import override
from obsgen.targets.grafana.dashboards.panel_model import transformation
from obsgen.targets.grafana.dashboards.panels import (
    ERROR_RATIO_STEPS,
    GRID_WIDTH,
    H_NODE_GRAPH,
    H_TABLE,
    DashboardSpec,
    Layout,
    Panels,
    prometheus_ref,
    system_dashboards_link,
    system_tag,
)
from obsgen.targets.grafana.dashboards.queries import (
    EDGE_SOURCE,
    EDGE_TARGET,
    NODE_ID,
    NODE_TITLE,
    SG,
    RecordedQueries,
    ServiceGraphQueries,
    slo_objectives,
)
from obsgen.targets.grafana.dashboards.uids import dashboard_file, dashboard_uid, service_dashboard_href
from obsgen.targets.grafana.dashboards.variables import SERVICE
from obsgen.targets.prometheus.rules import slo_meta

MAX_SLO_TABLE_HEIGHT = 30
"""Grid units: a taller SLO table scrolls (one row per SLO objective would make it thousands of units high)."""


def value_column(ref: str) -> str:
    """The field name Grafana gives the value of query ``ref`` when several queries feed a table."""
    return f"Value #{ref}"


def _time_columns(count: int) -> dict[str, bool]:
    # joinByField keeps each frame's Time column, numbered from 1; instant tables do not need them
    return {"Time": True, **{f"Time {i}": True for i in range(1, count + 1)}}


def _node_graph(layout: Layout, p: Panels) -> None:
    sg = ServiceGraphQueries()
    refs = ("nodes", "nodes_errors", "edges", "edges_errors")
    exprs = (sg.node_requests(), sg.node_error_ratio(), sg.edge_requests(), sg.edge_error_ratio())
    targets = [p.target(e, r, "", instant=True, table=True) for r, e in zip(refs, exprs, strict=True)]
    stat_names = {value_column("nodes"): "mainstat", value_column("nodes_errors"): "secondarystat",
                  value_column("edges"): "mainstat", value_column("edges_errors"): "secondarystat"}
    transformations = [
        transformation("merge", {}, refs[:2]),
        transformation("merge", {}, refs[2:]),
        transformation("organize", {
            "excludeByName": {"Time": True, SG.client_label: True, SG.server_label: True},
            "renameByName": stat_names,
        }),
    ]
    overrides = [
        override("byName", "mainstat", unit="reqps", displayName="Requests/s"),
        override("byName", "secondarystat", unit="percentunit", displayName="Error ratio"),
    ]
    layout.row("Service graph")
    layout.add(p.node_graph(
        "Service graph (observed)", targets, transformations=transformations, overrides=overrides,
        description="Nodes and edges from the service-graph metrics over the dashboard range: request rate "
                    f"and error ratio. Node fields: {NODE_ID}, {NODE_TITLE}; edges: {EDGE_SOURCE} -> {EDGE_TARGET}.",
    ), GRID_WIDTH, H_NODE_GRAPH)


def _topology_tables(layout: Layout, p: Panels, plan: Plan) -> None:
    sg = ServiceGraphQueries()
    edges = plan.declared_calls
    rename = {SG.client_label: "Caller", SG.server_label: "Callee", "Value": "Calls/s"}
    organize = transformation("organize", {"excludeByName": {"Time": True}, "renameByName": rename})
    calls_override = override("byName", "Calls/s", unit="reqps", custom__cellOptions={"type": "color-text"},
                              thresholds={"mode": "absolute", "steps": [{"color": "red", "value": None},
                                                                        {"color": "green", "value": 1e-9}]})
    if edges:
        declared = p.table(
            "Declared calls (red: no traffic in range)",
            [p.target(sg.declared_edge_traffic(), "A", "", instant=True, table=True)],
            transformations=[organize], overrides=[calls_override], sort_by="Calls/s", descending=False,
            description="Every call edge declared in the spec with its observed rate over the dashboard range; "
                        "0 means the spec declares a dependency the traces never show.",
        )
        layout.add(declared, 12, H_TABLE)
    observed = p.table(
        "Observed calls not in the spec",
        [p.target(sg.undeclared_edges(bool(edges)), "A", "", instant=True, table=True)],
        transformations=[organize], overrides=[override("byName", "Calls/s", unit="reqps")], sort_by="Calls/s",
        description="Edges of the service graph the spec does not declare (root callers such as the "
                    "service graph's virtual 'user' node appear here too).",
    )
    layout.add(observed, 12 if edges else GRID_WIDTH, H_TABLE)


def service_link(plan: Plan) -> dict[str, object]:
    """The services table's link from a row to the templated service dashboard showing that row's service.

    ``${__value.raw:percentencode}``: the clicked cell's value (the service name) percent-encoded by Grafana's
    ``percentencode`` format (``encodeURIComponentStrict`` in ``@grafana/scenes``
    ``packages/scenes/src/variables/interpolation/formatRegistry.ts``, v6.38.0), so any name is one
    ``var-service`` value; Grafana decodes it when it reads the URL.
    """
    return {"title": "Open the service dashboard",
            "url": f"{service_dashboard_href(plan)}?var-{SERVICE}=${{__value.raw:percentencode}}&${{__url_time_range}}",
            "targetBlank": False}


def _services_table(layout: Layout, p: Panels, plan: Plan) -> None:
    rec = RecordedQueries(plan)
    label = plan.span_metrics.service_label
    queries = {
        "requests": rec.service("requests"),
        "error_ratio": rec.service("error_ratio"),
        "p99": rec.service("latency_seconds_p99"),
    }
    names = {"requests": "Requests/s", "error_ratio": "Error ratio", "p99": "p99 latency"}
    targets = [p.target(e, r, "", instant=True, table=True) for r, e in queries.items()]
    transformations = [
        transformation("joinByField", {"byField": label, "mode": "outer"}),
        transformation("organize", {
            "excludeByName": _time_columns(len(queries)),
            "renameByName": {label: "Service", **{value_column(r): n for r, n in names.items()}},
        }),
    ]
    link = service_link(plan)
    overrides = [
        # no instrumented service: no service dashboard to link to
        *([override("byName", "Service", links=[link])] if plan.instrumented else []),
        override("byName", "Requests/s", unit="reqps"),
        override("byName", "Error ratio", unit="percentunit", custom__cellOptions={"type": "color-text"},
                 thresholds={"mode": "absolute", "steps": [{"color": "green", "value": None}] + [
                     {"color": c, "value": v} for v, c in ERROR_RATIO_STEPS]}),
        override("byName", "p99 latency", unit="s"),
    ]
    layout.row("Services")
    layout.add(p.table(
        "Services (last 5m)", targets, transformations=transformations, overrides=overrides,
        sort_by="Requests/s",
        description="Every service reporting span metrics, from the recording rules' 5m series. Click a "
                    "service to open its dashboard.",
    ), GRID_WIDTH, H_TABLE)


def _slo_table(layout: Layout, p: Panels, plan: Plan) -> None:
    if not plan.slos:
        return
    label = plan.span_metrics.service_label
    # Each SLO's metadata recordings (rules.slo_meta, Sloth's pattern) carry its labels, so one selector
    # per column reads every SLO: the queries stay the same size whatever the number of SLOs.
    keys = f"on ({label}, {naming.SLO_LABEL}, {naming.SLO_KIND_LABEL})"
    # good share = 1 - burn rate x budget; budget left = 1 - burn rate (each keeps the burn rate's labels)
    targets = [
        p.target(slo_meta.OBJECTIVE, "objective", "", instant=True, table=True),
        p.target(f"1 - {slo_meta.PERIOD_BURN_RATE} * {keys} (1 - {slo_meta.OBJECTIVE})", "compliance", "",
                 instant=True, table=True),
        p.target(f"1 - {slo_meta.PERIOD_BURN_RATE}", "budget", "", instant=True, table=True),
    ]
    objectives = sum(len(slo_objectives(slo)) for slo in plan.slos)
    transformations = [
        # the three frames carry the same labels (service, slo, slo_kind, slo_window): merge joins them by row
        transformation("merge", {}),
        transformation("organize", {
            "excludeByName": {"Time": True},
            "renameByName": {
                label: "Service", naming.SLO_LABEL: "SLO", naming.SLO_KIND_LABEL: "Kind",
                slo_meta.WINDOW_LABEL: "Window", value_column("objective"): "Objective",
                value_column("compliance"): "Current", value_column("budget"): "Error budget left",
            },
            "indexByName": {"Service": 0, "SLO": 1, "Kind": 2, "Window": 3, "Objective": 4, "Current": 5,
                            "Error budget left": 6},
        }),
    ]
    budget_steps = [{"color": "red", "value": None}, {"color": "orange", "value": 0},
                    {"color": "green", "value": 0.25}]
    overrides = [
        override("byName", "Objective", unit="percentunit", decimals=3),
        override("byName", "Current", unit="percentunit", decimals=3),
        override("byName", "Error budget left", unit="percentunit", decimals=1,
                 custom__cellOptions={"mode": "basic", "type": "gauge"}, min=-1, max=1,
                 thresholds={"mode": "absolute", "steps": budget_steps}),
    ]
    layout.row("SLOs")
    layout.add(p.table(
        "SLO status over each SLO's window", targets, transformations=transformations, overrides=overrides,
        sort_by="Error budget left", descending=False,
        description="Objective, current compliance and error budget left, each over the SLO's own window "
                    "(the SLO's recorded error ratio over that window), read from the SLO metadata recordings.",
    ), GRID_WIDTH, min(MAX_SLO_TABLE_HEIGHT, max(H_TABLE, 3 + objectives)))


def overview_dashboard(plan: Plan) -> DashboardSpec:
    """The system overview dashboard."""
    p = Panels(prometheus_ref(plan))
    layout = Layout()
    _node_graph(layout, p)
    _topology_tables(layout, p, plan)
    _services_table(layout, p, plan)
    _slo_table(layout, p, plan)
    return DashboardSpec(
        uid=dashboard_uid(plan, None, "overview"),
        path=dashboard_file(plan, None, "overview"),
        title=f"{plan.name} / Overview",
        summary=f"System {plan.name}: observed service graph vs declared topology, services and SLO status.",
        tags=(system_tag(plan), "obsgen-overview"),
        panels=layout.placed,
        links=[system_dashboards_link(plan)],
        time_from="now-1h",
        refresh="1m",
    )
