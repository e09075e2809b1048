"""Run synthetic traffic through the tail-sampling processor of the rendered Collector config.

Timing follows the processor (contrib tailsamplingprocessor v0.159.0): a span arrives when it ends (an SDK
exports finished spans); a trace enters the buffer with its first span and joins the id batcher's current
batch; the decision ticker fires every second and takes one batch, so a trace first seen during second ``s``
is decided at the tick ``s + N + 1`` (``N = max(1, whole seconds of decision_wait)``, ``processor.go`` Start and
``internal/idbatcher``), or at ``r + M + 1`` when its root span arrived in second ``r`` and
``decision_wait_after_root_received`` is ``M`` whole seconds (MoveToEarlierBatch), whichever is first. Every
trace of a tick is decided at that tick's time, in an order Go's map iteration leaves random (here: by trace id).
A span arriving after its trace's decision follows the decision while the decision cache still holds the id
(an LRU of ``*_cache_size`` ids per decision kind); otherwise it starts a new, partial trace. When the buffer
holds ``num_traces`` traces, a new one evicts the oldest before its decision (``waitForSpace``).

Speed: traces are drawn per second (``SynthModel.draws``), so the work splits over processes by seconds; each
worker evaluates the stateless policies (cached per trace shape for the attribute ones), and the parent runs the
stateful ones (rate and bytes limiting, composites) tick by tick, as the processor does.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from obsgen.sampling.engine import (
    Decision,
    EngineConfig,
    EngineError,
    Latency,
    Node,
    Probabilistic,
    TraceCtx,
    all_nodes,
    combine,
    fnv1a64_many,
    read_config,
)
from obsgen.sampling.otlp import TraceSizer, draw_views
from obsgen.sampling.synth import Draw, Scenario, SynthModel
from obsgen.spec.endpoints import parse_route
from obsgen.spec.models import Endpoint, Spec
from obsgen.targets.collector.memory import BufferMemory, estimate

ERROR, SLOW, CRITICAL = 1, 2, 4
NS = 1_000_000_000
PARALLEL_MIN_TRACES = 200_000


@dataclass
class PolicyStats:
    """One top-level policy: traces it sampled (dropped, for a drop policy), those only it kept, and the
    processor's per-policy counter (count_traces_sampled by decision)."""

    name: str
    kind: str
    hits: int = 0
    only: int = 0
    decisions: dict[str, int] = field(default_factory=dict)


@dataclass
class Guarantee:
    """Whether every trace of a category (errors, slow, critical endpoints) was kept, and why not."""

    name: str
    total: int = 0
    kept: int = 0
    lost: dict[str, int] = field(default_factory=dict)  # reason -> traces


@dataclass
class SimResult:
    """What a simulation found."""

    spec_name: str
    config_path: str
    seed: int
    duration_s: float
    scenario: str
    replicas: int
    traces: int = 0
    spans: int = 0
    bytes: int = 0
    kept_traces: int = 0
    kept_spans: int = 0
    kept_bytes: int = 0
    dropped_by_drop_policies: int = 0
    evicted: int = 0
    late_spans: int = 0
    late_spans_followed: int = 0
    late_spans_new_trace: int = 0
    policies: list[PolicyStats] = field(default_factory=list)
    guarantees: list[Guarantee] = field(default_factory=list)
    num_traces_configured: int = 0
    num_traces_needed: int = 0
    sampled_cache_configured: int = 0
    non_sampled_cache_configured: int = 0
    sampled_cache_needed: int = 0
    non_sampled_cache_needed: int = 0
    sampled_per_second: float = 0.0
    non_sampled_per_second: float = 0.0
    memory: BufferMemory | None = None
    composite_max_share: dict[str, float] = field(default_factory=dict)
    slow_threshold_ms: int | None = None
    entries: dict[str, int] = field(default_factory=dict)

    @property
    def kept_fraction(self) -> float:
        return self.kept_traces / self.traces if self.traces else 0.0

    @property
    def kept_span_fraction(self) -> float:
        return self.kept_spans / self.spans if self.spans else 0.0

    @property
    def storage_reduction(self) -> float:
        """1 - kept bytes / all bytes (what Tempo stores, before compression)."""
        return 1 - self.kept_bytes / self.bytes if self.bytes else 0.0


# ---------------------------------------------------------------------------------------------------------
# The config that ships


# ---------------------------------------------------------------------------------------------------------
# Workers: draw, time and evaluate the stateless policies


class _Setup(NamedTuple):
    seed: int
    duration_s: float
    slow_threshold_ms: int | None
    replicas: int
    model: SynthModel  # compiled once (~1.5 ms for the shop): workers use it as they find it (fork)
    config: EngineConfig  # workers evaluate only its stateless nodes, which keep no state


_SETUP: _Setup | None = None


def _critical_templates(model: SynthModel) -> set[int]:
    critical: set[tuple[str, str]] = set()
    for key, svc in model.spec.services.items():
        for item in svc.endpoints:
            if isinstance(item, Endpoint) and item.critical:
                critical.add((svc.service_name or key, parse_route(item.route).span_name))
    return {i for i, t in enumerate(model.templates) if t.kind == "SERVER" and (t.service, t.name) in critical}


def _work(seconds: tuple[int, int]) -> list[tuple[Any, ...]]:
    setup = _SETUP
    assert setup is not None
    model = setup.model
    config = setup.config
    nodes = all_nodes(config)
    needed = _needed_nodes(config)  # only these results are read by the parent's decisions
    pure = [n for n in nodes if n.pure]  # all of them: cached per shape, and read inside stateless nodes
    computed = [n for n in nodes if n.stateless and not n.pure and n.index in needed]
    critical = _critical_templates(model)
    sizer = TraceSizer(model)
    wait = max(1, int(config.decision_wait_s))
    after_root = int(config.decision_wait_after_root_s) if config.decision_wait_after_root_s > 0 else None
    shapes: dict[object, tuple[list[Decision | None], int]] = {}
    carried = model.carried_by_entry
    interned: dict[tuple[Decision | None, ...], tuple[Decision | None, ...]] = {}
    out: list[tuple[Any, ...]] = []
    slow_ms = setup.slow_threshold_ms
    salts = {n.salt: n.after_salt for n in nodes if isinstance(n, Probabilistic)}
    for draw, hashes in _with_hashes(model.draws(setup.seed, setup.duration_s, seconds[0], seconds[1]), salts):
        spans = draw.spans
        first = high = spans[0][3]
        low = spans[0][2]
        flags = 0
        for template, _, begin, end, failed in spans:
            if end < first:
                first = end
            if end > high:
                high = end
            if begin < low:
                low = begin
            if failed:
                flags |= ERROR
            if template in critical:
                flags |= CRITICAL
        duration = high - low
        if slow_ms is not None and duration // 1_000_000 > slow_ms:
            flags |= SLOW
        decide_s = first // NS + wait + 1
        if after_root is not None:
            decide_s = min(decide_s, spans[0][3] // NS + after_root + 1)
        cut = decide_s * NS
        late: tuple[int, ...] = ()
        sub = draw
        if high > cut:  # some span arrives after the decision: the decision sees the others
            late = tuple(s[3] for s in spans if s[3] > cut)
            kept = tuple(i for i, s in enumerate(spans) if s[3] <= cut)
            sub = Draw(draw.trace_id, draw.start_ns, draw.entry, draw.mix, tuple(spans[i] for i in kept))
            key: object = (draw.signature(carried[draw.entry]), kept)
            duration = sub.duration_ns
        else:
            key = draw.signature(carried[draw.entry])
        ctx = TraceCtx(sub.trace_id, len(sub.spans), 0, float(decide_s),
                       lambda sub=sub: draw_views(model, sub), duration, None, hashes)
        shape = shapes.get(key)
        if shape is None:
            blank: list[Decision | None] = [None] * len(nodes)
            for node in pure:
                blank[node.index] = node.evaluate(ctx)
            shape = shapes[key] = (blank, sizer.size(sub))
        if computed:
            pre = list(shape[0])
            ctx.pre = pre
            for node in computed:
                pre[node.index] = node.evaluate(ctx)
            pre_t = tuple(pre)
            pre_t = interned.setdefault(pre_t, pre_t)
        else:
            pre_t = tuple(shape[0])
        # the gateway's load-balancing exporter spreads trace ids evenly over the samplers (a hash ring);
        # any even split of random ids gives the same totals
        replica = int.from_bytes(draw.trace_id[8:], "big") % setup.replicas if setup.replicas > 1 else 0
        full_size = shape[1] if not late else sizer.size(draw)
        out.append((draw.trace_id, first, decide_s, len(sub.spans), shape[1], pre_t, flags, draw.entry,
                    late, len(spans), full_size, replica))
    return out


def _with_hashes(draws: Iterator[Draw], salts: Mapping[str, int],
                 block: int = 4096) -> Iterator[tuple[Draw, dict[str, int] | None]]:
    """Each draw with its probabilistic hashes (per salt), computed in bulk for blocks of draws."""
    if not salts:
        for draw in draws:
            yield draw, None
        return
    while True:
        chunk = list(itertools.islice(draws, block))
        if not chunk:
            return
        ids = [d.trace_id for d in chunk]
        columns = [fnv1a64_many(start, ids) for start in salts.values()]
        keys = list(salts)
        for draw, row in zip(chunk, zip(*columns, strict=True), strict=True):
            yield draw, dict(zip(keys, row, strict=True))  # not a dict comprehension (a function call) per draw


def _needed_nodes(config: EngineConfig) -> set[int]:
    """Indexes of the stateless nodes the stateful evaluation reads: stateless top-level policies, and stateless
    children of stateful nodes (a composite's sub-policies); what a stateless node contains is not needed."""
    needed: set[int] = set()
    stack: list[Node] = [p.node for p in config.policies]
    while stack:
        node = stack.pop()
        if node.stateless:
            needed.add(node.index)
        else:
            stack.extend(node.children())
    return needed


def _chunks(total_seconds: int, jobs: int) -> list[tuple[int, int]]:
    size = max(1, math.ceil(total_seconds / (jobs * 4)))
    return [(s, min(s + size, total_seconds)) for s in range(0, total_seconds, size)]


# ---------------------------------------------------------------------------------------------------------
# The processor


def slow_threshold(config: EngineConfig, spec: Spec) -> int | None:
    """What "slow" means for the guarantee: the lowest top-level latency policy threshold, else the smallest
    SLO latency threshold (ms)."""
    thresholds = [p.node.threshold_ms for p in config.policies if isinstance(p.node, Latency)]
    if thresholds:
        return min(thresholds)
    from obsgen.plan import smallest_latency_threshold

    smallest = smallest_latency_threshold(spec)
    return smallest.ns // 1_000_000 if smallest is not None else None


def _kind(node: Node) -> str:
    return type(node).__name__


def simulate(spec: Spec, tail_sampling: Mapping[str, Any], *, seed: int, duration_s: float,
             scenario: Scenario | None = None, replicas: int = 1, jobs: int | None = None,
             config_path: str = "", spec_name: str = "", model: SynthModel | None = None) -> SimResult:
    """Simulate ``duration_s`` seconds of the spec's traffic through the tail_sampling block; ``model``: the
    caller's ``SynthModel(spec, scenario)``, when it already compiled one."""
    global _SETUP
    config = read_config(tail_sampling)  # fails early on an unsupported config
    model = model if model is not None else SynthModel(spec, scenario)
    setup = _Setup(seed, duration_s, slow_threshold(config, spec), max(1, replicas), model, config)
    total_seconds = math.ceil(duration_s)
    expected = model.rate * duration_s
    if jobs is None:
        jobs = int(os.environ.get("OBSGEN_JOBS", "0")) or min(2, os.cpu_count() or 1)
    if expected < PARALLEL_MIN_TRACES:
        jobs = 1
    if jobs > 1:
        import multiprocessing  # only for a long run (20-60 ms of import a render's report never needs)

        if "fork" not in multiprocessing.get_all_start_methods():
            jobs = 1
    _SETUP = setup
    try:
        if jobs <= 1:
            records = _work((0, total_seconds))
        else:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                records = [r for part in pool.map(_work, _chunks(total_seconds, jobs)) for r in part]
    finally:
        _SETUP = None
    result = SimResult(spec_name or spec.name or "", config_path, seed, duration_s,
                       _scenario_text(scenario), setup.replicas, slow_threshold_ms=setup.slow_threshold_ms)
    _process(records, model, config, tail_sampling, setup, result)
    return result


def _scenario_text(scenario: Scenario | None) -> str:
    if scenario is None:
        return ""
    parts = [f"errors:{k}={v:g}" for k, v in sorted(scenario.errors.items())]
    parts += [f"slow:{k}={v:g}" for k, v in sorted(scenario.slow.items())]
    if scenario.start_s:
        parts.append(f"from={scenario.start_s:g}")
    return ",".join(parts)


def _process(records: list[tuple[Any, ...]], model: SynthModel, config: EngineConfig,
             tail_sampling: Mapping[str, Any], setup: _Setup, result: SimResult) -> None:
    engines = [config] + [read_config(tail_sampling) for _ in range(setup.replicas - 1)]
    stats = [PolicyStats(p.name, _kind(p.node)) for p in config.policies]
    guarantees = {ERROR: Guarantee("error traces"), SLOW: Guarantee("slow traces"),
                  CRITICAL: Guarantee("critical-endpoint traces")}
    records.sort(key=itemgetter(1, 0))  # (r[1], r[0]), made in C
    live: OrderedDict[bytes, tuple[Any, ...]] = OrderedDict()
    pending: list[tuple[int, bytes]] = []
    peak = 0
    decisions: dict[bool, list[int]] = {True: [], False: []}  # decision second per kind, in order
    decided: list[tuple[tuple[Any, ...], bool]] = []
    entries: dict[str, int] = {}

    def tick_until(limit: float) -> None:
        while pending and pending[0][0] <= limit:
            second = pending[0][0]
            batch = []
            while pending and pending[0][0] == second:
                _, tid = heapq.heappop(pending)
                rec = live.pop(tid, None)
                if rec is not None:
                    batch.append(rec)
            for rec in batch:  # already in trace-id order (the heap's tie-break)
                _decide(rec, second)

    combos: dict[tuple[Decision, ...], int] = {}
    finals: dict[tuple[Decision, ...], tuple[Decision, int]] = {}
    sampled_label, dropped_label = Decision.SAMPLED, Decision.DROPPED
    first_match = config.sample_on_first_match
    # per replica: (node, index, stateless) of each top-level policy in evaluation order
    tops = [[(p.node, p.node.index, p.node.stateless) for p in engine.policies] for engine in engines]
    names = [p.name for p in config.policies]
    runs: dict[tuple[Decision | None, ...], list[tuple[tuple[Decision, ...], int]]] = {}

    def _runs(pre: tuple[Decision | None, ...]) -> list[tuple[tuple[Decision, ...], int]]:
        """The top-level policies' decisions as runs of stateless ones (known from ``pre``), each followed by
        the position of the stateful policy to evaluate next, or -1 where the evaluation stops (after the last
        policy, a Dropped, or a Sampled with sample_on_first_match). Traces share a few hundred ``pre`` tuples:
        a record then costs one step per stateful policy instead of one per policy."""
        out: list[tuple[tuple[Decision, ...], int]] = []
        run: list[Decision] = []
        for position, (_, index, stateless) in enumerate(tops[0]):  # the same policies in every replica
            if not stateless:
                out.append((tuple(run), position))
                run = []
                continue
            d = pre[index]
            run.append(d)
            if d is dropped_label or (first_match and d is sampled_label):
                break
        out.append((tuple(run), -1))
        return out

    def _decide(rec: tuple[Any, ...], second: int) -> None:
        # evaluate_policies + combine (engine.py), with the stateless results the worker computed
        pre = rec[5]
        steps = runs.get(pre)
        if steps is None:
            steps = runs[pre] = _runs(pre)
        ctx: TraceCtx | None = None
        found: list[Decision] = []
        top = tops[rec[11]]
        for known, position in steps:
            found += known
            if position < 0:
                break
            if ctx is None:
                ctx = TraceCtx(rec[0], rec[3], rec[4], float(second), _no_spans, None, pre)
            d = top[position][0].evaluate(ctx)
            found.append(d)
            if d is dropped_label or (first_match and d is sampled_label):
                break
        key = tuple(found)
        combos[key] = combos.get(key, 0) + 1
        final = finals.get(key)
        if final is None:
            final = finals[key] = combine(key)
        sampled = final[0] is sampled_label
        if sampled:
            reason = ""
        elif final[0] is dropped_label:
            reason = f"dropped by {names[final[1]]}"
            result.dropped_by_drop_policies += 1
        else:
            reason = "matched by no keep policy"
        _account(rec, sampled, reason)
        decisions[sampled].append(second)
        if rec[8]:
            decided.append((rec, sampled))

    def _account(rec: tuple[Any, ...], kept: bool, reason: str) -> None:
        if kept:
            result.kept_traces += 1
            result.kept_spans += rec[3]
            result.kept_bytes += rec[4]
        if not rec[6]:
            return  # most traces are in no guarantee's category
        for flag, g in guarantees.items():
            if rec[6] & flag:
                g.total += 1
                if kept:
                    g.kept += 1
                else:
                    g.lost[reason] = g.lost.get(reason, 0) + 1

    # totals in bulk rather than attribute updates per record
    result.traces += len(records)
    result.spans += sum([rec[9] for rec in records])
    result.bytes += sum([rec[10] for rec in records])
    per_entry = [0] * len(model.entries)
    for rec in records:
        per_entry[rec[7]] += 1
    for (entry, _), count in zip(model.entries, per_entry, strict=True):
        if count:
            entries[entry] = entries.get(entry, 0) + count
    # Most traces waiting at once: arrivals so far minus decisions taken by then (a tick decides before a
    # trace arriving at the same moment is added, as tick_until below does).
    decided_at = sorted(rec[2] * NS for rec in records)
    peak = max([i + 1 - bisect.bisect_right(decided_at, rec[1]) for i, rec in enumerate(records)], default=0)
    if peak < config.num_traces:
        # nothing is evicted: the decisions are the ticks in order, each tick's traces by trace id
        for rec in sorted(records, key=itemgetter(2, 0)):
            _decide(rec, rec[2])
    else:
        for rec in records:
            tick_until(rec[1] / NS)
            if len(live) >= config.num_traces:  # waitForSpace: the oldest trace goes, undecided
                _, oldest = live.popitem(last=False)
                result.evicted += 1
                _account(oldest, False, "evicted before its decision (num_traces too small)")
            live[rec[0]] = rec
            heapq.heappush(pending, (rec[2], rec[0]))
        tick_until(math.inf)

    # late spans: follow the decision while the cache of its kind still holds the id
    needed = {True: 0, False: 0}
    for rec, sampled in decided:
        if not rec[8]:
            continue
        size = config.sampled_cache_size if sampled else config.non_sampled_cache_size
        times = decisions[sampled]
        for end in rec[8]:
            result.late_spans += 1
            newer = bisect.bisect_right(times, end / NS) - bisect.bisect_right(times, rec[2])
            needed[sampled] = max(needed[sampled], newer + 1)
            if newer < size:
                result.late_spans_followed += 1
                if sampled:
                    result.kept_spans += 1
            else:
                result.late_spans_new_trace += 1

    labels = {Decision.SAMPLED: "sampled", Decision.NOT_SAMPLED: "not_sampled", Decision.DROPPED: "dropped"}
    for key, count in sorted(combos.items()):
        samplers = [i for i, d in enumerate(key) if d is Decision.SAMPLED]
        final_sampled = finals[key][0] is Decision.SAMPLED
        for i, d in enumerate(key):
            st = stats[i]
            label = labels.get(d, d.name.lower())
            st.decisions[label] = st.decisions.get(label, 0) + count
            if d in (Decision.SAMPLED, Decision.DROPPED):
                st.hits += count
        if final_sampled and len(samplers) == 1:
            stats[samplers[0]].only += count
    for st in stats:
        st.decisions = dict(sorted(st.decisions.items()))
    result.policies = stats
    result.guarantees = [g for g in guarantees.values() if g.total or g.name != "slow traces"]
    result.num_traces_configured = config.num_traces
    result.num_traces_needed = peak
    result.sampled_cache_configured = config.sampled_cache_size
    result.non_sampled_cache_configured = config.non_sampled_cache_size
    result.sampled_cache_needed = needed[True]
    result.non_sampled_cache_needed = needed[False]
    span_seconds = max(setup.duration_s, 1e-9)
    result.sampled_per_second = len(decisions[True]) / span_seconds
    result.non_sampled_per_second = len(decisions[False]) / span_seconds
    spans_per_trace = math.ceil(result.spans / result.traces) if result.traces else 1
    result.memory = estimate(peak, needed[True] + needed[False], spans_per_trace)
    result.entries = dict(sorted(entries.items()))
    for p in config.policies:
        history = getattr(p.node, "history", None)
        if history:
            best = max(sum(v) for v in history.values())
            result.composite_max_share[p.name] = best / p.node.max_total  # type: ignore[attr-defined]


def _no_spans() -> Sequence[Any]:
    raise EngineError("a stateful policy asked for spans the worker did not evaluate")
