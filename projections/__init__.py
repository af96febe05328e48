"""Read models built from the ledger's events: the runtime, the read models and the rules."""
