"""The demo month (pure plan): three boroughs, deployments all month, in the contract."""

from __future__ import annotations

import json
from collections import Counter

from overt.demo.oversight import PATTERN, plan
from overt.oversight.contract import parse_json


def test_the_demo_month_is_valid_contract_json_for_three_boroughs() -> None:
    deployments = parse_json(json.dumps(plan()))
    assert Counter(d.borough for d in deployments) == {
        "Westminster": 10,
        "Camden": 10,
        "Hackney": 10,
    }
    days = {d.arrived_at.day for d in deployments}
    assert min(days) == 1 and max(days) == 28 and {d.arrived_at.month for d in deployments} == {11}
    attendances = sum(len(d.officers) for d in deployments)
    outcomes = Counter(PATTERN[n % len(PATTERN)] for n in range(attendances))
    assert outcomes["late"] >= 3 and outcomes["no-footage"] >= 3 and outcomes["early-stop"] >= 1
