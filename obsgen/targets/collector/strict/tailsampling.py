"""Strict model of the contrib ``tail_sampling`` processor config and its policy nesting rules.

Fields follow contrib ``processor/tailsamplingprocessor/config.go`` at v0.159.0: every policy is
``{name, type, <block named after type>}``; sub-policies of ``and``/``drop`` are basic policies or
``not``, the one of ``not`` is a basic policy, sub-policies of ``composite`` may also be ``and`` (see
ALLOWED_AT).

What is an error and what only a lint follows the processor: ``otelcol validate`` checks the decoded
struct, and the policies are built in ``Start`` (``processor.go``: ``loadSamplingPolicies`` ->
``getPolicyEvaluator``), which refuses an empty or repeated top-level name, an unknown type, status
codes or OTTL conditions missing, and a regex Go rejects. Everything else starts: a key that is no
field is kept by ``sharedPolicyCfg.ExtensionCfg`` (``mapstructure:",remain"``) and ignored unless an
evaluator extension of that type exists, a missing block is the zero config, and a numeric policy
without bounds only logs an error. Those are reported as ``lint(silently_ignored)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from obsgen.check.strict import StrictError
from obsgen.spec.goregexp import go_regexp_error
from obsgen.targets.collector.strict.schema import (
    INT32,
    LINT_COMPOSITE_RATE_ALLOCATION,
    LINT_SILENTLY_IGNORED,
    UINT,
    AnyMapping,
    Bool,
    Ctx,
    Duration,
    Field,
    Float,
    Int,
    ListOf,
    Loc,
    Node,
    Obj,
    Str,
    err,
    is_env,
    lint,
    number,
    type_name,
    vstr,
)

# An unlisted composite sub-policy gets an equal share instead of 0 (see _composite_checks).
COMPOSITE_EQUAL_SHARE_SINCE = (0, 159, 0)

# decision_wait_after_root_received: contrib PR #44878, released in v0.144.0 (contrib CHANGELOG.md, section
# v0.144.0, "processor/tail_sampling: Provide an option, decision_wait_after_root_received ... (#43876)").
DECISION_WAIT_AFTER_ROOT_SINCE = (0, 144, 0)
# maximum_trace_size_bytes: contrib PR #45286, merged after the v0.144.0 cut, first released in v0.145.0.
MAXIMUM_TRACE_SIZE_SINCE = (0, 145, 0)



def re2_error(pattern: str) -> str:
    """Why Go's ``regexp`` would refuse ``pattern``; empty when it compiles (obsgen.spec.goregexp)."""
    return go_regexp_error(pattern) or ""


def _string_attribute_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    if cfg.get("enabled_regex_matching") is not True:
        return []
    values = cfg.get("values")
    out: list[StrictError] = []
    for index, pattern in enumerate(values if isinstance(values, list) else []):
        if isinstance(pattern, str) and not is_env(pattern):
            problem = re2_error(pattern)
            if problem:
                out.append(
                    err((*loc, "values", index), f"invalid RE2 regular expression {pattern!r}: {problem}")
                )
    return out


def _numeric_attribute_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    """``getSharedPolicyEvaluator`` treats a 0 bound as unset; ``NewNumericAttributeFilter`` only logs
    "At least one of minValue or maxValue must be set" (internal/sampling/numeric_tag_filter.go)."""
    low, high = number(cfg.get("min_value")), number(cfg.get("max_value"))
    if not low and not high and not is_env(cfg.get("min_value")) and not is_env(cfg.get("max_value")):
        return lint(loc, ctx, LINT_SILENTLY_IGNORED, "numeric_attribute needs a non-zero min_value or max_value")
    if low and high and low > high:
        return lint((*loc, "min_value"), ctx, LINT_SILENTLY_IGNORED,
                    f"min_value ({low:g}) is greater than max_value ({high:g}): the policy never matches")
    return []


def _ottl_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    """internal/sampling/ottl.go ``NewOTTLConditionFilter``: at least one condition. The conditions'
    OTTL syntax is not modelled (the Collector parses it when it starts)."""
    if not cfg.get("span") and not cfg.get("spanevent"):
        return [err(loc, "expected at least one OTTL condition to filter on")]
    return []


BLOCKS: dict[str, Obj] = {
    "latency": Obj("latency policy", {"threshold_ms": Int(), "upper_threshold_ms": Int()}),
    "numeric_attribute": Obj(
        "numeric_attribute policy",
        {"key": Str(non_empty=True), "min_value": Int(), "max_value": Int(), "invert_match": Bool()},
        [_numeric_attribute_checks],
    ),
    "probabilistic": Obj("probabilistic policy", {"hash_salt": Str(), "sampling_percentage": Float()}),
    "status_code": Obj(
        "status_code policy",
        {"status_codes": ListOf(Str(choices=("OK", "ERROR", "UNSET")), non_empty=True)},
    ),
    "string_attribute": Obj(
        "string_attribute policy",
        {
            "key": Str(non_empty=True),
            "values": ListOf(Str()),
            "enabled_regex_matching": Bool(),
            "cache_max_size": Int(),
            "invert_match": Bool(),
        },
        [_string_attribute_checks],
    ),
    "rate_limiting": Obj("rate_limiting policy", {"spans_per_second": Int(), "burst_capacity": Int()}),
    "bytes_limiting": Obj("bytes_limiting policy", {"bytes_per_second": Int(), "burst_capacity": Int()}),
    "span_count": Obj("span_count policy", {"min_spans": INT32, "max_spans": INT32}),
    "trace_state": Obj("trace_state policy", {"key": Str(non_empty=True), "values": ListOf(Str())}),
    "boolean_attribute": Obj(
        "boolean_attribute policy", {"key": Str(non_empty=True), "value": Bool(), "invert_match": Bool()}
    ),
    "ottl_condition": Obj(
        "ottl_condition policy",
        {
            "error_mode": Str(choices=("ignore", "silent", "propagate")),
            "span": ListOf(Str()),
            "spanevent": ListOf(Str()),
        },
        [_ottl_checks],
    ),
}
# Types without a configuration block.
BLOCKLESS_TYPES = frozenset({"always_sample", "trace_flags"})
# Types whose evaluator fails on the zero config, so a missing block stops the Collector.
BLOCK_REQUIRED = frozenset({"status_code", "ottl_condition", "not"})
BASIC_TYPES: frozenset[str] = frozenset(BLOCKS) | BLOCKLESS_TYPES
COMBINATOR_TYPES: frozenset[str] = frozenset({"and", "not", "drop", "composite"})
ALL_TYPES: frozenset[str] = BASIC_TYPES | COMBINATOR_TYPES
# Which policy types each list takes, as contrib v0.159.0 builds them: ``and_sub_policy`` and
# ``drop_sub_policy`` entries are ``AndSubPolicyCfg`` (the shared types plus ``not``; and_helper.go and
# drop_helper.go build a ``not`` there), ``not_sub_policy`` is ``NotSubPolicyCfg`` (shared types only:
# not_helper.go hands it to getSharedPolicyEvaluator, which fails with "unknown sampling policy type"),
# ``composite_sub_policy`` is ``CompositeSubPolicyCfg`` (shared types plus ``and``), all in config.go.
ALLOWED_AT: dict[str, frozenset[str]] = {
    "policies": ALL_TYPES,
    "and_sub_policy": BASIC_TYPES | {"not"},
    "not_sub_policy": BASIC_TYPES,
    "drop_sub_policy": BASIC_TYPES | {"not"},
    "composite_sub_policy": BASIC_TYPES | {"and"},
}
_COMPONENT_ID = re.compile(r"^[a-zA-Z][0-9a-zA-Z_]{0,62}(/[^\s/]+)?$")


@dataclass
class Policy(Node):
    """One policy entry; ``level`` is the list it sits in (``policies``, ``and_sub_policy``, ...)."""

    level: str

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Check name, type, nesting and the single block named after the type."""
        if not isinstance(value, dict):
            return [err(loc, f"expected a policy mapping, got {type_name(value)}")]
        out: list[StrictError] = []
        name = value.get("name")
        if name is not None and not isinstance(name, str):
            out.append(err((*loc, "name"), f"expected a string, got {type_name(name)}"))
        elif not name and self.level == "policies":  # only top-level names are checked (processor.go)
            out.append(err((*loc, "name"), "policy name cannot be empty"))
        ptype = value.get("type")
        if not isinstance(ptype, str) or not ptype:
            return [*out, err((*loc, "type"), "unknown sampling policy type ''")]
        out += self._check_type(ptype, loc, ctx)
        for key, item in value.items():
            if key in ("name", "type"):
                continue
            if key == ptype and ptype not in BLOCKLESS_TYPES:
                out += self._check_block(ptype, item, (*loc, key), ctx)
            elif not (item is None or isinstance(item, dict) or is_env(item)):
                # sharedPolicyCfg.ExtensionCfg is map[string]map[string]any: a leftover key needs a mapping
                out.append(err((*loc, str(key)), f"has invalid keys: {key} (expected a mapping for an "
                                                  f"evaluator extension's config, got {type_name(item)})"))
            elif key in ALL_TYPES:
                out += lint((*loc, key), ctx, LINT_SILENTLY_IGNORED,
                            f"'{key}' block is ignored: the policy's type is '{ptype}'")
            elif not (ctx.extensions is not None and key == ptype):
                out += lint((*loc, str(key)), ctx, LINT_SILENTLY_IGNORED,
                            f"'{key}' is not a field of a sampling policy: the Collector keeps it as evaluator "
                            "extension config and ignores it")
        if ptype in ALL_TYPES and ptype not in BLOCKLESS_TYPES and ptype not in value:
            if ptype in BLOCK_REQUIRED:
                out.append(err(loc, f"policy of type '{ptype}' requires a '{ptype}' block"))
            else:
                out += lint(loc, ctx, LINT_SILENTLY_IGNORED,
                            f"policy of type '{ptype}' has no '{ptype}' block, so it runs on the zero config")
        return out

    def _check_type(self, ptype: str, loc: Loc, ctx: Ctx) -> list[StrictError]:
        allowed = ALLOWED_AT[self.level]
        if ptype in allowed:
            return []
        if ptype in ALL_TYPES:
            return [err((*loc, "type"), f"policy type '{ptype}' cannot be nested inside '{self.level}'")]
        if ctx.extensions is not None and _COMPONENT_ID.match(ptype) and ptype in ctx.extensions:
            return []
        return [err((*loc, "type"), f"unknown sampling policy type '{ptype}'")]

    def _check_block(self, ptype: str, block: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        if ptype in BLOCKS:
            return BLOCKS[ptype].check(block, loc, ctx)
        if ptype in COMBINATOR_TYPES:
            return COMBINATORS[ptype].check(block, loc, ctx)
        return AnyMapping().check(block, loc, ctx)


@dataclass
class PolicyList(Node):
    """A list of policies whose names must be unique and non-empty."""

    level: str

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Check each policy, and name uniqueness among the top-level policies (processor.go)."""
        if value is None or (isinstance(value, list) and not value):
            return lint(loc, ctx, LINT_SILENTLY_IGNORED, "no policy: nothing can be sampled here")
        if not isinstance(value, list):
            return [err(loc, f"expected a list of policies, got {type_name(value)}")]
        out: list[StrictError] = []
        seen: set[str] = set()
        for index, entry in enumerate(value):
            out += Policy(self.level).check(entry, (*loc, index), ctx)
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and name and self.level == "policies":
                if name in seen:
                    out.append(err((*loc, index, "name"), f"duplicate policy name '{name}'"))
                seen.add(name)
        return out


def _composite_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    subs = cfg.get("composite_sub_policy")
    names = {p.get("name") for p in subs if isinstance(p, dict)} if isinstance(subs, list) else set()
    out: list[StrictError] = []
    allocations = cfg.get("rate_allocation")
    allocated: set[object] = set()
    # composite_helper.go ignores entries that name no sub-policy: the Collector starts, the entry does nothing
    for index, entry in enumerate(allocations if isinstance(allocations, list) else []):
        target = entry.get("policy") if isinstance(entry, dict) else None
        allocated.add(target)
        if target not in names:
            out += lint((*loc, "rate_allocation", index, "policy"), ctx, LINT_SILENTLY_IGNORED,
                        f"'{target}' is not a composite sub-policy, so this allocation is ignored")
    order = cfg.get("policy_order")
    for index, target in enumerate(order if isinstance(order, list) else []):
        if target not in names:
            out += lint((*loc, "policy_order", index), ctx, LINT_SILENTLY_IGNORED,
                        f"'{target}' is not a composite sub-policy, so this entry is ignored")
    if LINT_COMPOSITE_RATE_ALLOCATION in ctx.lints:
        # composite_helper.go getRateAllocationMap: up to v0.158.0 it iterates over rate_allocation only, so an
        # unlisted sub-policy's budget stays 0; from v0.159.0 (contrib PR #49857) it iterates over every
        # sub-policy and gives an unlisted one max_total_spans_per_second / number of sub-policies.
        equal_share = ctx.version >= COMPOSITE_EQUAL_SHARE_SINCE
        for index, sub in enumerate(subs if isinstance(subs, list) else []):
            if isinstance(sub, dict) and sub.get("name") not in allocated:
                consequence = (
                    "so it gets an equal share of max_total_spans_per_second (total / number of sub-policies), "
                    "which is not the unallocated remainder"
                    if equal_share
                    else "so its budget is 0 and it can never sample"
                )
                out.append(
                    err(
                        (*loc, "composite_sub_policy", index),
                        f"lint({LINT_COMPOSITE_RATE_ALLOCATION}): sub-policy '{sub.get('name')}' has no "
                        f"rate_allocation entry at {vstr(ctx.version)}, {consequence}",
                    )
                )
    return out


COMBINATORS: dict[str, Obj] = {
    "and": Obj("and policy", {"and_sub_policy": PolicyList("and_sub_policy")}),
    "drop": Obj("drop policy", {"drop_sub_policy": PolicyList("drop_sub_policy")}),
    "not": Obj("not policy", {"not_sub_policy": Policy("not_sub_policy")}),
    "composite": Obj(
        "composite policy",
        {
            "max_total_spans_per_second": Int(),
            "policy_order": ListOf(Str()),
            "composite_sub_policy": PolicyList("composite_sub_policy"),
            "rate_allocation": ListOf(
                Obj("rate_allocation", {"policy": Str(non_empty=True), "percent": Int()})
            ),
        },
        [_composite_checks],
    ),
}


def _policies_required(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    if "policies" not in cfg:
        return lint((*loc, "policies"), ctx, LINT_SILENTLY_IGNORED, "no policy: nothing can be sampled")
    return []


TAIL_SAMPLING = Obj(
    "tail_sampling processor",
    {
        "decision_wait": Duration(),
        "decision_wait_after_root_received": Field(
            Duration(non_negative=True), since=DECISION_WAIT_AFTER_ROOT_SINCE
        ),
        "num_traces": UINT,
        "num_shards": Int(hi=256, bits=32, unsigned=True),  # Config.Validate: "must not exceed 256"
        "expected_new_traces_per_sec": UINT,
        "block_on_overflow": Bool(),
        "decision_cache": Obj(
            "decision_cache", {"sampled_cache_size": Int(lo=0), "non_sampled_cache_size": Int(lo=0)}
        ),
        "sample_on_first_match": Bool(),
        "drop_pending_traces_on_shutdown": Bool(),
        "maximum_trace_size_bytes": Field(UINT, since=MAXIMUM_TRACE_SIZE_SINCE),
        "sampling_strategy": Str(choices=("trace-complete", "span-ingest")),
        "tail_storage": Str(),
        "policies": PolicyList("policies"),
    },
    [_policies_required],
)
