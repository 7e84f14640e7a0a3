import pytest

from tenants.plans import GIB, PLANS, UnknownPlanError, effective_limits, get_plan


def test_plan_limits_match_the_price_list() -> None:
    assert [p.limits.max_groups for p in PLANS.values()] == [5, 15, None, None]
    assert [p.limits.messages_per_day for p in PLANS.values()] == [100, 500, 2000, None]
    assert [p.limits.api_access for p in PLANS.values()] == [False, False, True, True]


def test_enterprise_takes_custom_limits_but_others_do_not() -> None:
    custom = {"limits": {"max_groups": 40, "messages_per_day": 9000, "bogus": 1}}
    assert effective_limits("enterprise", custom).max_groups == 40
    assert effective_limits("enterprise", custom).messages_per_day == 9000
    assert effective_limits("basic", custom).max_groups == 5
    assert effective_limits("basic").storage_quota_bytes == 5 * GIB


def test_unknown_plan_names_the_choices() -> None:
    with pytest.raises(UnknownPlanError, match="basic, advanced, premium, enterprise"):
        get_plan("gold")
