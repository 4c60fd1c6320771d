"""The metering backbone: product contexts (`metering`, `billing`, `reporting`), the shared `kit`,
the `schema` migrations, and the composition root `app` that assembles them into processes
(`metering serve`, `metering worker`, `metering dev`). Contexts never import each other's
transports nor `app`; the rule is checked by the import-linter contracts in pyproject.toml."""
