"""Turn pydantic validation errors into positioned diagnostics with did-you-mean hints."""

from __future__ import annotations

import difflib
import math
import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from obsgen.diagnostics import Diagnostic
from obsgen.spec.durations import DurationError
from obsgen.spec.error_wording import ErrorFacts, word
from obsgen.spec.loader import LoadedSpec, Loc, _dotted
from obsgen.spec.locations import SpecLocation, spec_location
from obsgen.spec.models import Spec
from obsgen.spec.types import IDENT_PATTERN


def suggest(word: str, choices: typing.Iterable[str]) -> str:
    """A ``did you mean 'x'?`` fragment, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


class Suggester:
    """``suggest`` over one large set of names (every service), at a bounded cost per check.

    Comparing every unknown reference with every name is quadratic: a spec whose services were renamed
    but whose calls were not has thousands of each, which took seconds. Each distinct word is compared
    once, and only the first ``budget`` distinct words get a suggestion; by then the user has plenty
    of hints about what went wrong.
    """

    def __init__(self, choices: typing.Iterable[str], budget: int = 50) -> None:
        self.choices = list(choices)
        self.budget = budget
        self.known: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        """The suggestion for ``word`` ('' when nothing is close or the budget is spent)."""
        if word not in self.known:
            if self.budget <= 0:
                return ""
            self.budget -= 1
            self.known[word] = suggest(word, self.choices)
        return self.known[word]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Models an annotation may hold, looking through Optional/Union/Annotated/list/dict."""
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin in (Union, types.UnionType) or origin is typing.Annotated:
        found: list[type[BaseModel]] = []
        for arg in get_args(annotation):
            found += _models_in(arg)
        return found
    return []


def _container_item(annotation: Any) -> Any:
    """For list[X]/dict[K, X] (possibly Optional/Annotated), the item annotation X."""
    origin = get_origin(annotation)
    if origin in (list, dict):
        return get_args(annotation)[-1]
    if origin in (Union, types.UnionType) or origin is typing.Annotated:
        for arg in get_args(annotation):
            item = _container_item(arg)
            if item is not None:
                return item
    return None


def allowed_keys(loc: Loc) -> list[str]:
    """The keys a mapping at ``loc`` accepts, by walking the Spec model along the location."""
    candidates: list[Any] = [Spec]
    for part in loc:
        nxt: list[Any] = []
        for cand in candidates:
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                if isinstance(part, str):
                    for name, info in cand.model_fields.items():
                        if part in (info.alias or name, name):
                            nxt.append(info.annotation)
            else:
                item = _container_item(cand)
                if item is not None:
                    nxt.append(item)
                for model in _models_in(cand):
                    if isinstance(part, str) and part in _keys(model):
                        info = _field_by_key(model, part)
                        nxt.append(info)
        candidates = [c for c in nxt if c is not None]
    keys: set[str] = set()
    for cand in candidates:
        for model in _models_in(cand) or ([cand] if isinstance(cand, type) else []):
            if isinstance(model, type) and issubclass(model, BaseModel):
                keys.update(_keys(model))
    return sorted(keys)


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key == (info.alias or name):
            return info.annotation
    return None


def diagnostics_from_validation(exc: ValidationError, loaded: LoadedSpec) -> list[Diagnostic]:
    """One diagnostic per pydantic error, positioned at the offending key or value."""
    out: list[Diagnostic] = []
    seen: set[tuple[Loc, str]] = set()
    for err, where in _relevant(exc.errors(include_url=False), loaded):
        loc = where.loc
        kind = err["type"]
        if where.key_error:
            code, message, hint = _key_error(loc, err)
            line, col = loaded.where(loc, key=True)
        elif kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = allowed_keys(loc[:-1])
            code, message = "OBS200", f"unknown key {key!r}"
            hint = suggest(key, allowed) or (f"allowed keys: {', '.join(allowed)}" if allowed else "")
            line, col = loaded.where(loc, key=True)
        else:
            spot = loc[:-1] if kind == "missing" else loc
            line, col = loaded.where(spot)
            facts = ErrorFacts(kind, loc, err.get("input"), dict(err.get("ctx") or {}), err["msg"])
            code, message, hint = word(facts)
            value = err.get("input")
            if isinstance(value, float) and not math.isfinite(value):
                code, message = "OBS205", "must be a finite number (YAML reads .inf, .nan and 1e400 as non-finite)"

        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        out.append(Diagnostic(code, message, file=loaded.file, line=line, column=col, path=_dotted(loc), hint=hint))
    return out


def _value_at(data: object, loc: Loc) -> object:
    for part in loc:
        found = (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data))
        if not found:
            return None
        data = data[part]  # type: ignore[index]
    return data


def _relevant(errors: list[Any], loaded: LoadedSpec) -> list[tuple[Any, SpecLocation]]:
    """Keep, at each union (``name | {service, endpoint}``), only the errors of the member the input meant.

    A mapping was meant for the model member, anything else for the scalar one; reporting "should be a
    valid string" next to "unknown key 'critcal'" would only confuse.
    """
    located = [(err, spec_location(err["loc"], err["type"])) for err in errors]
    members: dict[Loc, set[str]] = {}
    for _, where in located:
        for point, member in where.branches:
            members.setdefault(point, set()).add(member)
    kept = []
    for err, where in located:
        drop = False
        for point, member in where.branches:
            if members[point] != {"model", "scalar"}:
                continue
            meant = "model" if isinstance(_value_at(loaded.data, point), dict) else "scalar"
            drop = drop or member != meant
        if not drop:
            kept.append((err, where))
    return kept


def _key_error(loc: Loc, err: Any) -> tuple[str, str, str]:
    """Code, message and hint for a mapping key that is not a valid name (``services: {"a/b": ...}``)."""
    key = str(loc[-1]) if loc else ""
    what = "service key" if len(loc) == 2 and loc[0] == "services" else "key"
    ctx = err.get("ctx") or {}
    pattern = ctx.get("pattern", IDENT_PATTERN if err["type"] == "value_error" else "")
    detail = _clean(err["msg"], err) if err["type"] == "value_error" else ""
    message = f"invalid {what} {key!r}" + (f": {detail}" if detail else "")
    hint = _pattern_hint(pattern, service_key=what == "service key") if pattern else ""
    code = "OBS203" if pattern else "OBS202"
    return code, message, hint


def _clean(message: str, err: Any) -> str:
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    ctx = err.get("ctx") or {}
    if isinstance(ctx.get("error"), DurationError):
        return str(ctx["error"])
    return message


def _pattern_hint(pattern: str, *, service_key: bool = False) -> str:
    from obsgen.spec.types import ATTRIBUTE_PATTERN

    if pattern == IDENT_PATTERN:
        text = ("names use letters, digits, '.', '_' and '-', start and end with a letter or digit, "
                "at most 63 characters, no '..'")
        if service_key:
            text += ("; a service key becomes file names and UIDs: keep it simple and set "
                     "'service_name:' to the service.name the service reports (any text)")
        return text
    if pattern == ATTRIBUTE_PATTERN:
        return "attribute keys use letters, digits, '_' and '.', and start with a letter or '_'"
    return f"must match {pattern}"
