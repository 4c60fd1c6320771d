"""metering.v1 over gRPC: the MeteringService and MeteringAdminService servicers, their request
validation and response mapping, and the guard (authentication, access rules, RPC metrics) the
composition root installs in front of every metering.v1 service."""
