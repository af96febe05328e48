"""The read models, one module per projection: its tables, its events, its queries."""
