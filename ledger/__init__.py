"""The ledger: domain model, application service and persistence configuration."""
