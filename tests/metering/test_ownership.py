"""Which replica owns an organization: every replica with the same view names the same owner,
and a replica joining or leaving moves only the organizations it wins or held."""

from __future__ import annotations

from collections import Counter

from services.metering.domain.ownership import owner_of

REPLICAS = ["10.0.0.1:50051", "10.0.0.2:50051", "10.0.0.3:50051"]
ORGS = [f"org-{n}" for n in range(3000)]


def test_the_owner_does_not_depend_on_the_order_replicas_are_listed_in() -> None:
    for org in ORGS[:200]:
        assert owner_of(org, REPLICAS) == owner_of(org, list(reversed(REPLICAS)))


def test_no_replica_means_no_owner() -> None:
    assert owner_of("org-1", []) is None


def test_organizations_spread_over_the_replicas() -> None:
    owners = Counter(owner_of(org, REPLICAS) for org in ORGS)
    assert set(owners) == set(REPLICAS)
    assert min(owners.values()) > len(ORGS) / len(REPLICAS) * 0.85


def test_a_replica_leaving_moves_only_the_organizations_it_owned() -> None:
    before = {org: owner_of(org, REPLICAS) for org in ORGS}
    after = {org: owner_of(org, REPLICAS[:2]) for org in ORGS}
    moved = {org for org in ORGS if before[org] != after[org]}
    assert moved == {org for org in ORGS if before[org] == REPLICAS[2]}


def test_a_replica_joining_takes_organizations_only_for_itself() -> None:
    grown = [*REPLICAS, "10.0.0.4:50051"]
    for org in ORGS:
        now = owner_of(org, grown)
        assert now == owner_of(org, REPLICAS) or now == "10.0.0.4:50051"
