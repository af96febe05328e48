"""Read models built from the ledger's events (arrives with the projections work)."""
