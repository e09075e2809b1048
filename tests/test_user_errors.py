"""Issue #14, "tracebacks and wrong messages": what a user sees for a wrong spec is obsgen's own words."""

from __future__ import annotations

from obsgen.spec.locations import spec_location


def test_union_tags_are_found_by_position_not_by_spelling() -> None:
    # 'Payments' and 'str' are spec keys; 'Call' and the function-after tag are pydantic's member tags
    where = spec_location(("services", "Payments", "calls", 0, "Call", "Endpoint"), "extra_forbidden")
    assert where.loc == ("services", "Payments", "calls", 0, "Endpoint")
    assert where.branches == ((("services", "Payments", "calls", 0), "model"),)
    where = spec_location(("services", "str", "calls", 1, "function-after[_no_dotdot(), constrained-str]"),
                          "string_pattern_mismatch")
    assert where.loc == ("services", "str", "calls", 1)
    assert where.branches == ((("services", "str", "calls", 1), "scalar"),)
    assert spec_location(("Services",), "extra_forbidden").loc == ("Services",)
    assert spec_location(("sampling", "policies", 0, "critical_endpoints", "CriticalEndpointsPolicy", "Services"),
                         "extra_forbidden").loc == ("sampling", "policies", 0, "critical_endpoints", "Services")


def test_a_key_error_is_told_from_a_key_named_like_the_marker() -> None:
    where = spec_location(("services", "a/b", "[key]"), "string_pattern_mismatch")
    assert (where.loc, where.key_error) == (("services", "a/b"), True)
    where = spec_location(("services", "api", "[key]"), "extra_forbidden")  # a Service field named '[key]'
    assert (where.loc, where.key_error) == (("services", "api", "[key]"), False)
