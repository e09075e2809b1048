"""Strict checks for Grafana provisioning files (datasources, dashboard providers) and dashboard JSON.

Grafana itself parses provisioning YAML leniently (unknown keys and unknown ``jsonData`` keys are silently
ignored), so these checks are deliberately stricter than Grafana: a typo that Grafana would swallow is an
error here. Datasource references are resolved the way Grafana's frontend ``DatasourceSrv`` does it:
an exact, case-sensitive uid match first, then an exact datasource-name match.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator

from obsgen.check.strict import StrictError, format_loc
from obsgen.emit.escape import grafana_provisioning, grafana_unprovisioning

Loc = tuple[object, ...]

_UID_RE = re.compile(r"^[a-zA-Z0-9\-_]+$")
_MAX_UID = 40
# A `$` Grafana would try to expand: `$name` or `${...}`. `$$` is the escape for a literal `$`.
_DOLLAR_RE = re.compile(r"\$\$|\$\{[^}]*\}?|\$[A-Za-z0-9_]+|\$")
_ENV_REF_RE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*\}$")
_SCHEMA_MIN, _SCHEMA_MAX = 36, 42
_GRID_WIDTH = 24
# Built-in pseudo datasources that need no provisioning.
_BUILTIN_DS_UIDS = frozenset({"-- Grafana --", "-- Mixed --", "-- Dashboard --", "grafana", "__expr__"})


def _err(errors: list[StrictError], loc: Loc, message: str) -> None:
    errors.append(StrictError(format_loc(loc), message))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_keys(errors: list[StrictError], obj: dict, allowed: Iterable[str], loc: Loc, what: str) -> None:
    allowed_set = set(allowed)
    for key in obj:
        if key not in allowed_set:
            _err(errors, (*loc, str(key)), f"unknown {what} key")


def _check_types(errors: list[StrictError], obj: dict, types: dict[str, str], loc: Loc) -> None:
    """Check scalar kinds: ``str``, ``bool``, ``int``, ``num``, ``list``, ``map``."""
    for key, kind in types.items():
        if key not in obj or obj[key] is None:
            continue
        value = obj[key]
        ok = {
            "str": isinstance(value, str),
            "bool": isinstance(value, bool),
            "int": _is_int(value),
            "num": _is_int(value) or isinstance(value, float),
            "list": isinstance(value, list),
            "map": isinstance(value, dict),
            "strint": isinstance(value, str) or _is_int(value),
        }[kind]
        if not ok:
            _err(errors, (*loc, key), f"expected {kind}, got {type(value).__name__}")


# ---------------------------------------------------------------------------------------------------
# `$` escaping in provisioning files
# ---------------------------------------------------------------------------------------------------


# One implementation of the escape, shared with the targets that write provisioning files.
escape_provisioning = grafana_provisioning
unescape_provisioning = grafana_unprovisioning


def _walk_strings(value: object, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _walk_strings(v, (*loc, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_strings(v, (*loc, i))


def check_provisioning_dollars(doc: object) -> list[StrictError]:
    """Report string values whose ``$`` Grafana would expand as an environment variable.

    Accepted: ``$$`` (a literal ``$``), ``${UPPER_CASE_NAME}`` (an intended env reference, the only form obsgen
    writes, for secrets), and a lone ``$`` not followed by a name character or ``{`` (for example a regex
    ``$`` anchor), which Grafana leaves alone. Rejected: ``$name``, ``$UPPER`` (bare form: ambiguous, obsgen
    never writes it) and ``${lower.or.dotted}`` such as ``${__value.raw}``, which must be ``$${__value.raw}``.
    """
    errors: list[StrictError] = []
    for loc, text in _walk_strings(doc, ()):
        for match in _DOLLAR_RE.finditer(text):
            token = match.group(0)
            if token == "$$" or _ENV_REF_RE.match(token):
                continue
            if token == "$":
                continue
            _err(errors, loc, f"{token!r} would be expanded as an environment variable by Grafana provisioning; "
                              f"write {escape_provisioning(token)!r} for a literal")
    return errors


# ---------------------------------------------------------------------------------------------------
# Datasource jsonData models
# ---------------------------------------------------------------------------------------------------

# HTTP/TLS/auth settings the shared Grafana datasource HTTP settings editor writes for every HTTP datasource.
_COMMON_JSON_KEYS = frozenset({
    "tlsAuth", "tlsAuthWithCACert", "tlsSkipVerify", "serverName", "timeout", "keepCookies", "oauthPassThru",
    "sigV4Auth", "sigV4AuthType", "sigV4Region", "sigV4AssumeRoleArn", "sigV4ExternalId", "sigV4Profile",
    "enableSecureSocksProxy", "secureSocksProxyUsername", "httpHeaderName1",
})
_HEADER_NAME_RE = re.compile(r"^httpHeaderName\d+$")

_TAGS_KV = "tags_kv"  # [{key, value?}]


def _check_kv_list(errors: list[StrictError], value: object, loc: Loc, *, value_required: bool = False) -> None:
    if not isinstance(value, list):
        _err(errors, loc, "expected a list of {key, value} objects")
        return
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            _err(errors, (*loc, i), "expected {key, value}")
            continue
        _check_keys(errors, item, ("key", "value"), (*loc, i), "tag")
        if not isinstance(item.get("key"), str) or not item.get("key"):
            _err(errors, (*loc, i, "key"), "tag key is required")
        if value_required and "value" not in item:
            _err(errors, (*loc, i, "value"), "value is required")


_TRACE_SHIFT = {"datasourceUid": "str", "spanStartTimeShift": "str", "spanEndTimeShift": "str"}
_TEMPO_BLOCKS: dict[str, dict[str, str]] = {
    "tracesToLogsV2": {**_TRACE_SHIFT, "tags": _TAGS_KV, "filterByTraceID": "bool", "filterBySpanID": "bool",
                       "customQuery": "bool", "query": "str"},
    "tracesToLogs": {**_TRACE_SHIFT, "tags": "list", "mappedTags": _TAGS_KV, "mapTagNamesEnabled": "bool",
                     "filterByTraceID": "bool", "filterBySpanID": "bool", "lokiSearch": "bool"},
    "tracesToMetrics": {**_TRACE_SHIFT, "tags": _TAGS_KV, "queries": "queries"},
    "tracesToProfiles": {"datasourceUid": "str", "tags": _TAGS_KV, "profileTypeId": "str", "customQuery": "bool",
                         "query": "str"},
    "serviceMap": {"datasourceUid": "str", "histogramType": "str"},
    "nodeGraph": {"enabled": "bool"},
    "search": {"hide": "bool", "filters": "list", "defaultFilters": "list"},
    "traceQuery": {"timeShiftEnabled": "bool", "spanStartTimeShift": "str", "spanEndTimeShift": "str"},
    "streamingEnabled": {"search": "bool", "metrics": "bool"},
    "spanBar": {"type": "str", "tag": "str"},
    "lokiSearch": {"datasourceUid": "str"},
}
_TEMPO_SCALARS = {"tagLimit": "int", "timeRangeForTags": "strint"}

_LOKI_SCALARS = {"maxLines": "strint", "timeout": "strint", "derivedFields": "list", "predefinedOperations": "str",
                 "manageAlerts": "bool", "alertmanagerUid": "str"}
_DERIVED_FIELD_TYPES = {"name": "str", "matcherType": "str", "matcherRegex": "str", "url": "str",
                        "datasourceUid": "str", "urlDisplayLabel": "str", "targetBlank": "bool"}

_PROM_SCALARS = {
    "exemplarTraceIdDestinations": "list", "httpMethod": "str", "timeInterval": "str", "queryTimeout": "str",
    "prometheusType": "str", "prometheusVersion": "str", "cacheLevel": "str", "incrementalQuerying": "bool",
    "incrementalQueryOverlapWindow": "str", "disableRecordingRules": "bool", "customQueryParameters": "str",
    "manageAlerts": "bool", "allowAsRecordingRulesTarget": "bool", "alertmanagerUid": "str",
    "defaultEditor": "str", "disableMetricsLookup": "bool", "seriesEndpoint": "bool", "seriesLimit": "int",
    "codeModeMetricNamesSuggestionLimit": "int", "timeout": "strint",
}
_EXEMPLAR_TYPES = {"name": "str", "datasourceUid": "str", "url": "str", "urlDisplayLabel": "str"}


def _check_block(errors: list[StrictError], obj: object, spec: dict[str, str], loc: Loc) -> None:
    if not isinstance(obj, dict):
        _err(errors, loc, "expected a mapping")
        return
    _check_keys(errors, obj, spec, loc, "jsonData")
    plain = {k: v for k, v in spec.items() if v not in (_TAGS_KV, "queries")}
    _check_types(errors, obj, plain, loc)
    for key, kind in spec.items():
        if key not in obj or obj[key] is None:
            continue
        if kind == _TAGS_KV:
            _check_kv_list(errors, obj[key], (*loc, key))
        elif kind == "queries":
            queries = obj[key]
            if not isinstance(queries, list):
                _err(errors, (*loc, key), "expected a list of {name, query}")
                continue
            for i, q in enumerate(queries):
                if not isinstance(q, dict):
                    _err(errors, (*loc, key, i), "expected {name, query}")
                    continue
                _check_keys(errors, q, ("name", "query"), (*loc, key, i), "query")
                if not isinstance(q.get("query"), str) or not q["query"]:
                    _err(errors, (*loc, key, i, "query"), "query is required")


def _is_common_key(key: str) -> bool:
    return key in _COMMON_JSON_KEYS or bool(_HEADER_NAME_RE.match(key))


def _check_tempo_json(errors: list[StrictError], jd: dict, loc: Loc) -> None:
    for key, value in jd.items():
        if key in _TEMPO_BLOCKS:
            if value is not None:
                _check_block(errors, value, _TEMPO_BLOCKS[key], (*loc, key))
        elif key not in _TEMPO_SCALARS and not _is_common_key(key):
            _err(errors, (*loc, key), "unknown Tempo jsonData key (Grafana would ignore it silently)")
    _check_types(errors, jd, _TEMPO_SCALARS, loc)


def _check_loki_json(errors: list[StrictError], jd: dict, loc: Loc) -> None:
    for key in jd:
        if key not in _LOKI_SCALARS and not _is_common_key(key):
            _err(errors, (*loc, key), "unknown Loki jsonData key (Grafana would ignore it silently)")
    _check_types(errors, jd, _LOKI_SCALARS, loc)
    fields = jd.get("derivedFields")
    if not isinstance(fields, list):
        return
    names = Counter(f.get("name") for f in fields if isinstance(f, dict))
    for i, f in enumerate(fields):
        floc = (*loc, "derivedFields", i)
        if not isinstance(f, dict):
            _err(errors, floc, "expected a mapping")
            continue
        _check_keys(errors, f, _DERIVED_FIELD_TYPES, floc, "derived field")
        _check_types(errors, f, _DERIVED_FIELD_TYPES, floc)
        if not f.get("name"):
            _err(errors, (*floc, "name"), "derived field name is required")
        elif names[f["name"]] > 1:
            _err(errors, (*floc, "name"), f"duplicate derived field name {f['name']!r}")
        matcher = f.get("matcherType", "regex")
        if matcher not in ("regex", "label"):
            _err(errors, (*floc, "matcherType"), "matcherType must be 'regex' or 'label'")
        regex = f.get("matcherRegex")
        if not isinstance(regex, str) or not regex:
            _err(errors, (*floc, "matcherRegex"), "matcherRegex is required")
        elif matcher == "regex":
            try:
                groups = re.compile(regex).groups
            except re.error as exc:
                _err(errors, (*floc, "matcherRegex"), f"invalid regex: {exc}")
            else:
                if groups < 1:
                    _err(errors, (*floc, "matcherRegex"), "regex matcher needs a capture group for the value")


def _check_prometheus_json(errors: list[StrictError], jd: dict, loc: Loc) -> None:
    for key in jd:
        if key not in _PROM_SCALARS and not _is_common_key(key):
            _err(errors, (*loc, key), "unknown Prometheus jsonData key (Grafana would ignore it silently)")
    _check_types(errors, jd, _PROM_SCALARS, loc)
    if jd.get("httpMethod") not in (None, "GET", "POST"):
        _err(errors, (*loc, "httpMethod"), "httpMethod must be GET or POST")
    dests = jd.get("exemplarTraceIdDestinations")
    if isinstance(dests, list):
        for i, d in enumerate(dests):
            dloc = (*loc, "exemplarTraceIdDestinations", i)
            if not isinstance(d, dict):
                _err(errors, dloc, "expected a mapping")
                continue
            _check_keys(errors, d, _EXEMPLAR_TYPES, dloc, "exemplar destination")
            _check_types(errors, d, _EXEMPLAR_TYPES, dloc)
            if not d.get("name"):
                _err(errors, (*dloc, "name"), "name (the exemplar label holding the trace id) is required")
            if not d.get("datasourceUid") and not d.get("url"):
                _err(errors, dloc, "needs datasourceUid (internal link) or url (external link)")


_JSON_CHECKERS = {"tempo": _check_tempo_json, "loki": _check_loki_json, "prometheus": _check_prometheus_json}


def _datasource_refs(value: object, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Yield every ``datasourceUid`` (and correlation ``targetUID``) string below ``value``."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("datasourceUid", "targetUID") and isinstance(v, str):
                yield (*loc, k), v
            else:
                yield from _datasource_refs(v, (*loc, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _datasource_refs(v, (*loc, i))


# ---------------------------------------------------------------------------------------------------
# Datasource provisioning file
# ---------------------------------------------------------------------------------------------------

_DS_TYPES = {
    "name": "str", "type": "str", "uid": "str", "access": "str", "orgId": "int", "orgName": "str", "url": "str",
    "user": "str", "database": "str", "basicAuth": "bool", "basicAuthUser": "str", "withCredentials": "bool",
    "isDefault": "bool", "correlations": "list", "jsonData": "map", "secureJsonData": "map", "editable": "bool",
    "version": "int", "apiVersion": "int", "description": "str",
}


def validate_datasources_file(doc: object, *, strict_json_data: bool = True,
                              known_uids: Iterable[str] = ()) -> list[StrictError]:
    """Validate a parsed ``provisioning/datasources/*.yaml`` document.

    ``strict_json_data`` makes unknown ``jsonData`` keys of tempo/loki/prometheus datasources errors (Grafana
    ignores them). Every ``datasourceUid``/``targetUID`` must name a datasource of the same file (uid, or name
    as Grafana's frontend falls back to) or one of ``known_uids``. ``$`` escaping is checked too.
    """
    errors: list[StrictError] = []
    if not isinstance(doc, dict):
        return [StrictError("", "a datasource provisioning file must be a mapping")]
    _check_keys(errors, doc, ("apiVersion", "datasources", "deleteDatasources", "prune"), (), "top-level")
    if doc.get("apiVersion") != 1:
        _err(errors, ("apiVersion",), "apiVersion must be 1")
    _check_types(errors, doc, {"datasources": "list", "deleteDatasources": "list", "prune": "bool"}, ())
    for i, d in enumerate(doc.get("deleteDatasources") or []):
        if not isinstance(d, dict):
            _err(errors, ("deleteDatasources", i), "expected a mapping")
            continue
        _check_keys(errors, d, ("name", "orgId", "orgName"), ("deleteDatasources", i), "deleteDatasources")
        if not d.get("name"):
            _err(errors, ("deleteDatasources", i, "name"), "name is required")

    datasources = [d for d in (doc.get("datasources") or []) if isinstance(d, dict)]
    for i, ds in enumerate(doc.get("datasources") or []):
        loc: Loc = ("datasources", i)
        if not isinstance(ds, dict):
            _err(errors, loc, "expected a mapping")
            continue
        _check_keys(errors, ds, _DS_TYPES, loc, "datasource")
        _check_types(errors, ds, _DS_TYPES, loc)
        for req in ("name", "type"):
            if not ds.get(req):
                _err(errors, (*loc, req), f"{req} is required")
        if ds.get("access") not in (None, "proxy", "direct"):
            _err(errors, (*loc, "access"), "access must be 'proxy' or 'direct'")
        uid = ds.get("uid")
        if isinstance(uid, str) and (len(uid) > _MAX_UID or not _UID_RE.match(uid)):
            _err(errors, (*loc, "uid"), f"uid must be at most {_MAX_UID} characters of [a-zA-Z0-9-_]")
        jd = ds.get("jsonData")
        checker = _JSON_CHECKERS.get(str(ds.get("type")))
        if strict_json_data and checker is not None and isinstance(jd, dict):
            checker(errors, jd, (*loc, "jsonData"))
        if isinstance(ds.get("secureJsonData"), dict):
            for k, v in ds["secureJsonData"].items():
                if not isinstance(v, str):
                    _err(errors, (*loc, "secureJsonData", str(k)), "secureJsonData values must be strings")

    _check_uniqueness(errors, datasources)
    _check_references(errors, doc.get("datasources") or [], datasources, known_uids)
    errors.extend(check_provisioning_dollars(doc))
    return errors


def _check_uniqueness(errors: list[StrictError], datasources: list[dict]) -> None:
    defaults: Counter[object] = Counter(ds.get("orgId", 1) for ds in datasources if ds.get("isDefault") is True)
    for org, count in defaults.items():
        if count > 1:
            _err(errors, ("datasources",), f"{count} datasources have isDefault: true in org {org}; at most one")
    names = Counter((ds.get("orgId", 1), ds.get("name")) for ds in datasources)
    uids = Counter((ds.get("orgId", 1), ds.get("uid")) for ds in datasources if ds.get("uid"))
    for (org, name), count in names.items():
        if count > 1:
            _err(errors, ("datasources",), f"datasource name {name!r} used {count} times in org {org}")
    for (org, uid), count in uids.items():
        if count > 1:
            _err(errors, ("datasources",), f"datasource uid {uid!r} used {count} times in org {org}")


def _check_references(errors: list[StrictError], raw: list, datasources: list[dict],
                      known_uids: Iterable[str]) -> None:
    # Grafana's DatasourceSrv resolves by exact (case-sensitive) uid, then by exact name.
    resolvable = {str(ds["uid"]) for ds in datasources if ds.get("uid")}
    resolvable |= {str(ds["name"]) for ds in datasources if ds.get("name")}
    resolvable |= set(known_uids)
    lowered = {r.lower(): r for r in resolvable}
    for i, ds in enumerate(raw):
        if not isinstance(ds, dict):
            continue
        for key in ("jsonData", "correlations"):
            for loc, ref in _datasource_refs(ds.get(key), ("datasources", i, key)):
                if ref == "" or ref in resolvable:
                    continue
                hint = f" (did you mean {lowered[ref.lower()]!r}? uids are case-sensitive)" \
                    if ref.lower() in lowered else ""
                _err(errors, loc, f"dangling datasource reference {ref!r}{hint}")


# ---------------------------------------------------------------------------------------------------
# Dashboard provider file
# ---------------------------------------------------------------------------------------------------

_PROVIDER_TYPES = {"name": "str", "orgId": "int", "folder": "str", "folderUid": "str", "type": "str",
                   "disableDeletion": "bool", "updateIntervalSeconds": "int", "allowUiUpdates": "bool",
                   "editable": "bool", "options": "map"}


def validate_dashboard_provider_file(doc: object) -> list[StrictError]:
    """Validate a parsed ``provisioning/dashboards/*.yaml`` (dashboard provider) document."""
    errors: list[StrictError] = []
    if not isinstance(doc, dict):
        return [StrictError("", "a dashboard provider file must be a mapping")]
    _check_keys(errors, doc, ("apiVersion", "providers"), (), "top-level")
    if doc.get("apiVersion") != 1:
        _err(errors, ("apiVersion",), "apiVersion must be 1")
    providers = doc.get("providers")
    if not isinstance(providers, list):
        _err(errors, ("providers",), "providers must be a list")
        return errors
    names = Counter(p.get("name") for p in providers if isinstance(p, dict))
    for i, p in enumerate(providers):
        loc: Loc = ("providers", i)
        if not isinstance(p, dict):
            _err(errors, loc, "expected a mapping")
            continue
        _check_keys(errors, p, _PROVIDER_TYPES, loc, "provider")
        _check_types(errors, p, _PROVIDER_TYPES, loc)
        if not p.get("name"):
            _err(errors, (*loc, "name"), "name is required")
        elif names[p["name"]] > 1:
            _err(errors, (*loc, "name"), f"duplicate provider name {p['name']!r}")
        if p.get("type", "file") != "file":
            _err(errors, (*loc, "type"), "only type 'file' is supported")
        opts = p.get("options")
        if not isinstance(opts, dict):
            _err(errors, (*loc, "options"), "options.path is required for file providers")
            continue
        _check_keys(errors, opts, ("path", "foldersFromFilesStructure"), (*loc, "options"), "options")
        _check_types(errors, opts, {"path": "str", "foldersFromFilesStructure": "bool"}, (*loc, "options"))
        if not opts.get("path"):
            _err(errors, (*loc, "options", "path"), "path is required for file providers")
        if opts.get("foldersFromFilesStructure") is True and (p.get("folder") or p.get("folderUid")):
            _err(errors, (*loc, "options", "foldersFromFilesStructure"),
                 "foldersFromFilesStructure requires folder and folderUid to be empty")
    errors.extend(check_provisioning_dollars(doc))
    return errors


# ---------------------------------------------------------------------------------------------------
# Dashboard JSON
# ---------------------------------------------------------------------------------------------------

_VAR_REF_RE = re.compile(r"^\$\{?([A-Za-z0-9_]+)\}?$")

# The keys Grafana's dashboard schema declares (@grafana/schema 12.2.0, raw/dashboard/x/dashboard_types.gen:
# Dashboard, Panel, RowPanel, TimePickerConfig); tests/real/test_grafana_schema.py type-checks every rendered
# dashboard against the schema itself. Grafana's frontend ignores other keys, so a key outside these is a typo
# or a leftover of an older format.
_DASHBOARD_KEYS = frozenset({
    "annotations", "description", "editable", "fiscalYearStartMonth", "gnetId", "graphTooltip", "id", "links",
    "liveNow", "panels", "preload", "refresh", "revision", "schemaVersion", "snapshot", "tags", "templating",
    "time", "timepicker", "timezone", "title", "uid", "version", "weekStart",
})
_PANEL_KEYS = frozenset({
    "cacheTimeout", "datasource", "description", "fieldConfig", "gridPos", "hideTimeOverride", "id", "interval",
    "libraryPanel", "links", "maxDataPoints", "maxPerRow", "options", "pluginVersion", "queryCachingTTL", "repeat",
    "repeatDirection", "targets", "timeFrom", "timeShift", "title", "transformations", "transparent", "type",
})
_ROW_KEYS = frozenset({"collapsed", "datasource", "gridPos", "id", "panels", "repeat", "title", "type"})
# Every key optional; null is none of their types (nowDelay is `string`, not `string | null`).
_TIMEPICKER_TYPES = {"hidden": "bool", "nowDelay": "str", "quick_ranges": "list", "refresh_intervals": "list"}


def validate_dashboard(doc: object, *, known_datasource_uids: Iterable[str] | None = None) -> list[StrictError]:
    """Validate the basics of a dashboard JSON model that obsgen provisions from a file.

    ``known_datasource_uids=None`` skips the uid-existence check (shape is still checked).
    """
    errors: list[StrictError] = []
    if not isinstance(doc, dict):
        return [StrictError("", "a dashboard must be a JSON object")]
    _check_keys(errors, doc, _DASHBOARD_KEYS, (), "dashboard")
    if doc.get("id") is not None:
        _err(errors, ("id",), "id must be null for provisioned dashboards")
    _check_timepicker(errors, doc.get("timepicker"))
    uid = doc.get("uid")
    if not isinstance(uid, str) or not uid:
        _err(errors, ("uid",), "uid is required")
    elif len(uid) > _MAX_UID or not _UID_RE.match(uid):
        _err(errors, ("uid",), f"uid must be at most {_MAX_UID} characters of [a-zA-Z0-9-_]")
    if not isinstance(doc.get("title"), str) or not doc["title"].strip():
        _err(errors, ("title",), "title must be a non-empty string")
    sv = doc.get("schemaVersion")
    if not _is_int(sv) or not _SCHEMA_MIN <= sv <= _SCHEMA_MAX:
        _err(errors, ("schemaVersion",), f"schemaVersion must be an integer between {_SCHEMA_MIN} and {_SCHEMA_MAX}")

    variables = _check_templating(errors, doc.get("templating"))
    known = None if known_datasource_uids is None else set(known_datasource_uids)
    panels = doc.get("panels") or []
    if not isinstance(panels, list):
        _err(errors, ("panels",), "panels must be a list")
        return errors
    _check_panels(errors, panels, ("panels",), variables, known)
    ids = Counter(p.get("id") for p in _all_panels(panels))
    for pid, count in ids.items():
        if count > 1:
            _err(errors, ("panels",), f"panel id {pid!r} used {count} times")
    _check_layout(errors, panels, ("panels",))
    for loc, ref in _dashboard_ds_refs(doc):
        _check_ds_ref(errors, ref, loc, variables, known)
    return errors


def _check_timepicker(errors: list[StrictError], timepicker: object) -> None:
    if timepicker is None:
        return
    if not isinstance(timepicker, dict):
        _err(errors, ("timepicker",), "timepicker must be an object")
        return
    _check_keys(errors, timepicker, _TIMEPICKER_TYPES, ("timepicker",), "timepicker")
    _check_types(errors, timepicker, _TIMEPICKER_TYPES, ("timepicker",))
    for key, value in timepicker.items():
        if value is None:
            _err(errors, ("timepicker", str(key)), "null is not allowed here: leave the key out to unset it")


def _all_panels(panels: list) -> Iterator[dict]:
    for p in panels:
        if isinstance(p, dict):
            yield p
            yield from _all_panels(p.get("panels") or [])


# Variable types a provisioned dashboard may declare (Grafana's VariableType, @grafana/schema 12.2.0), and the keys
# of the variable model (VariableModel) that obsgen writes or could.
_VARIABLE_TYPES = frozenset({"query", "adhoc", "groupby", "constant", "datasource", "interval", "textbox", "custom",
                             "system", "snapshot", "switch"})
_VARIABLE_KEYS = frozenset({
    "type", "name", "label", "hide", "skipUrlSync", "description", "query", "datasource", "current", "multi",
    "allowCustomValue", "options", "refresh", "sort", "includeAll", "allValue", "regex", "auto", "auto_min",
    "auto_count", "definition", "staticOptions", "staticOptionsOrder",
})
# A Grafana variable reference in query text: $name, ${name}, ${name.path}, ${name:format}, [[name]], [[name:format]]
# (the variable syntax of @grafana/scenes, packages/scenes/src/variables/constants.ts).
_VAR_USE_RE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::\w+)?\]\]|\$\{(\w+)(?:\.[^:^}]+)?(?::[^}]+)?\}")


def _check_templating(errors: list[StrictError], templating: object) -> dict[str, dict]:
    variables: dict[str, dict] = {}
    if templating is None:
        return variables
    items = templating.get("list") if isinstance(templating, dict) else None
    if not isinstance(items, list):
        _err(errors, ("templating",), "templating must be {list: [...]}")
        return variables
    for i, var in enumerate(items):
        if not isinstance(var, dict) or not isinstance(var.get("name"), str) or not var["name"]:
            _err(errors, ("templating", "list", i, "name"), "template variable needs a name")
            continue
        if var["name"] in variables:
            _err(errors, ("templating", "list", i, "name"), f"duplicate template variable {var['name']!r}")
        _check_keys(errors, var, _VARIABLE_KEYS, ("templating", "list", i), "template variable")
        if var.get("type") not in _VARIABLE_TYPES:
            _err(errors, ("templating", "list", i, "type"), f"unknown variable type {var.get('type')!r}")
        elif var["type"] == "query" and not var.get("query"):
            _err(errors, ("templating", "list", i, "query"), "a query variable needs a query")
        variables[var["name"]] = var
    return variables


def _check_variable_uses(errors: list[StrictError], p: dict, ploc: Loc, variables: dict[str, dict]) -> None:
    """A repeat names a multi-value (or include-all) variable; a query names only defined variables or built-ins
    (``__``): Grafana leaves an unknown ``$x`` in the text, where it breaks or changes the query."""
    repeat = p.get("repeat")
    if repeat is not None:
        var = variables.get(repeat) if isinstance(repeat, str) else None
        if var is None:
            _err(errors, (*ploc, "repeat"), f"repeat over an undefined variable {repeat!r}")
        elif not (var.get("multi") or var.get("includeAll")):
            _err(errors, (*ploc, "repeat"), f"repeat over {repeat!r}, which holds one value only (not multi)")
    for j, target in enumerate(p.get("targets") or []):
        if not isinstance(target, dict):
            continue
        for key in ("expr", "query"):
            text = target.get(key)
            if not isinstance(text, str):
                continue
            for m in _VAR_USE_RE.finditer(text):
                name = m.group(1) or m.group(2) or m.group(3)
                # $1 is label_replace's group reference: Grafana finds no such variable and leaves it
                if not name.startswith("__") and not name.isdigit() and name not in variables:
                    _err(errors, (*ploc, "targets", j, key), f"{m.group(0)!r} is not a variable of this dashboard")


def _check_panels(errors: list[StrictError], panels: list, loc: Loc, variables: dict[str, dict],
                  known: set[str] | None) -> None:
    for i, p in enumerate(panels):
        ploc = (*loc, i)
        if not isinstance(p, dict):
            _err(errors, ploc, "panel must be an object")
            continue
        if not _is_int(p.get("id")):
            _err(errors, (*ploc, "id"), "panel id must be an integer")
        ptype = p.get("type")
        _check_keys(errors, p, _ROW_KEYS if ptype == "row" else _PANEL_KEYS, ploc, "row" if ptype == "row" else "panel")
        _check_variable_uses(errors, p, ploc, variables)
        grid = p.get("gridPos")
        if not isinstance(grid, dict) or any(not _is_int(grid.get(k)) for k in ("x", "y", "w", "h")):
            _err(errors, (*ploc, "gridPos"), "gridPos must be {x, y, w, h} integers")
        elif grid["x"] < 0 or grid["y"] < 0 or grid["w"] < 1 or grid["h"] < 1 or grid["x"] + grid["w"] > _GRID_WIDTH:
            _err(errors, (*ploc, "gridPos"), f"gridPos out of bounds (x >= 0, w >= 1, x + w <= {_GRID_WIDTH})")
        if ptype not in ("row", "text"):
            targets = p.get("targets")
            if not isinstance(targets, list) or not targets:
                _err(errors, (*ploc, "targets"), f"{ptype} panel has no targets")
        if ptype == "row":
            children = p.get("panels") or []
            if children and not p.get("collapsed"):
                _err(errors, (*ploc, "panels"), "only a collapsed row may hold child panels")
            _check_panels(errors, children, (*ploc, "panels"), variables, known)


def _rect(p: dict) -> tuple[int, int, int, int] | None:
    g = p.get("gridPos")
    if isinstance(g, dict) and all(_is_int(g.get(k)) for k in ("x", "y", "w", "h")):
        return g["x"], g["y"], g["w"], g["h"]
    return None


def _check_layout(errors: list[StrictError], panels: list, loc: Loc) -> None:
    placed: list[tuple[int, tuple[int, int, int, int]]] = []
    for i, p in enumerate(panels):
        if not isinstance(p, dict):
            continue
        rect = _rect(p)
        if rect is None:
            continue
        if p.get("type") == "row" and (rect[0] != 0 or rect[2] != _GRID_WIDTH or rect[3] != 1):
            _err(errors, (*loc, i, "gridPos"), "row panels must be full width (x 0, w 24) and h 1")
        x, y, w, h = rect
        for j, (ox, oy, ow, oh) in placed:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                _err(errors, (*loc, i, "gridPos"), f"overlaps panel at {format_loc((*loc, j))}")
        placed.append((i, rect))
        # A collapsed row's children are laid out in their own space when the row expands.
        if p.get("type") == "row" and p.get("panels"):
            _check_layout(errors, p["panels"], (*loc, i, "panels"))


def _dashboard_ds_refs(doc: dict) -> Iterator[tuple[Loc, object]]:
    def from_panels(panels: list, loc: Loc) -> Iterator[tuple[Loc, object]]:
        for i, p in enumerate(panels):
            if not isinstance(p, dict):
                continue
            if "datasource" in p:
                yield (*loc, i, "datasource"), p["datasource"]
            for j, t in enumerate(p.get("targets") or []):
                if isinstance(t, dict) and "datasource" in t:
                    yield (*loc, i, "targets", j, "datasource"), t["datasource"]
            yield from from_panels(p.get("panels") or [], (*loc, i, "panels"))

    yield from from_panels(doc.get("panels") or [], ("panels",))
    for i, var in enumerate((doc.get("templating") or {}).get("list") or []):
        if isinstance(var, dict) and "datasource" in var:
            yield ("templating", "list", i, "datasource"), var["datasource"]
    for i, ann in enumerate((doc.get("annotations") or {}).get("list") or []):
        if isinstance(ann, dict) and "datasource" in ann:
            yield ("annotations", "list", i, "datasource"), ann["datasource"]


def _check_ds_ref(errors: list[StrictError], ref: object, loc: Loc, variables: dict[str, dict],
                  known: set[str] | None) -> None:
    if ref is None:
        return  # null means the default datasource
    if not isinstance(ref, dict) or not isinstance(ref.get("uid"), str):
        _err(errors, loc, "datasource must be an object {type, uid} (legacy string references are not allowed)")
        return
    uid = ref["uid"]
    if not isinstance(ref.get("type"), str) or not ref["type"]:
        _err(errors, (*loc, "type"), "datasource type is required")
    match = _VAR_REF_RE.match(uid) if uid.startswith("$") else None
    if match:
        var = variables.get(match.group(1))
        if var is None:
            _err(errors, (*loc, "uid"), f"{uid!r} refers to an undefined template variable")
        elif var.get("type") != "datasource":
            _err(errors, (*loc, "uid"), f"{uid!r} refers to a {var.get('type')!r} variable, not a datasource one")
        return
    if uid in _BUILTIN_DS_UIDS:
        return
    if known is not None and uid not in known:
        _err(errors, (*loc, "uid"), f"unknown datasource uid {uid!r}")
