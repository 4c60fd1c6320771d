"""The resources the usage API reports on, their names and aliases, and the service each belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from services.kit.errors import FieldError

CREDITS = "credits"


@dataclass(frozen=True)
class Resource:
    name: str  # the meter
    display_name: str
    service: str  # the service it is broken down under in cost analysis
    category: str  # the cost category within the service


# In the order of the usage summary, then the other meters.
RESOURCES: tuple[Resource, ...] = (
    Resource("databases", "Databases", "platform", "database_cost"),
    Resource("namespaces", "Namespaces", "platform", "compute_cost"),
    Resource("storage_gb", "Storage GB", "query_engine", "storage_cost"),
    Resource("bandwidth_gb", "Bandwidth GB", "platform", "network_cost"),
    Resource("nfs_shares", "NFS shares", "platform", "storage_cost"),
    Resource("kafka_clusters", "Kafka clusters", "platform", "streaming_cost"),
    Resource("api_requests", "API requests", "platform", "api_cost"),
    Resource("seats", "Seats", "platform", "seat_cost"),
    Resource("llm_tokens", "LLM tokens", "ai_service", "llm_cost"),
    Resource("queries", "Queries", "query_engine", "query_cost"),
    Resource("webhook_events", "Webhook events", "platform", "api_cost"),
    Resource("compute_seconds", "Compute seconds", "ai_service", "compute_cost"),
    Resource("vault_secrets", "Vault secrets", "platform", "security_cost"),
    Resource("vpcs", "VPCs", "platform", "network_cost"),
    Resource("backups_gb", "Backups GB", "query_engine", "storage_cost"),
)
BY_NAME = {r.name: r for r in RESOURCES}

# The ten resources of the usage summary (platform resources, then LLM tokens and queries).
SUMMARY = ("databases", "namespaces", "storage_gb", "bandwidth_gb", "nfs_shares", "kafka_clusters",
           "api_requests", "seats", "llm_tokens", "queries")

# Short resource type names accepted by GET /usage/:resource_type.
ALIASES = {
    "storage": "storage_gb",
    "bandwidth": "bandwidth_gb",
    "nfs": "nfs_shares",
    "kafka": "kafka_clusters",
    "vault": "vault_secrets",
    "vpc": "vpcs",
    "backups": "backups_gb",
}

# The services and categories the cost breakdown always shows, at zero when
# nothing was spent on them; other services appear as they are spent on.
BREAKDOWN_SKELETON: dict[str, tuple[str, ...]] = {
    "ai_service": ("llm_cost", "compute_cost"),
    "query_engine": ("query_cost", "storage_cost"),
    "ml_service": ("training_cost", "serving_cost"),
}

# Direct credit spend without a model (a Deduct with an amount) is attributed to the agent.
AGENT_CREDITS = Resource("agent_credits", "Agent credits", "ai_service", "compute_cost")
# LLM spend comes from the ledger (priced tokens), never from a unit price.
LEDGER_PRICED = "llm_tokens"


def resource_name(raw: str, field: str) -> str:
    """A resource name or alias of the usage API, as the meter it stands for."""
    name = ALIASES.get(raw, raw)
    if name not in BY_NAME:
        known = ", ".join(sorted({*BY_NAME, *ALIASES}))
        raise FieldError(field, f"unknown resource type {raw[:64]!r}; one of: {known}")
    return name


def optional_resource(raw: str, field: str) -> str:
    return resource_name(raw, field) if raw else ""


def display_name(resource: str) -> str:
    known = BY_NAME.get(resource)
    return known.display_name if known else resource.replace("_", " ").capitalize()
