"""The pure rules: score facts, the score, pace, roll-ups and histories (no I/O)."""
