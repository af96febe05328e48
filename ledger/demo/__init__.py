"""The demo ledger: a vendor's channel over two quarters, simulated day by day on a fresh ledger.

Actors and partners are registered through the application's commands; the plans are played
out day by day with the Plan aggregate's own commands (every rule checked as in production)
on a simulated clock, and each day's events are saved through the application in a few
transactions, so that a thousand partnerships load in seconds.
"""

from ledger.demo.cast import DEMO_DAYS, PRINTED, PROFILES
from ledger.demo.loading import DemoActor, DemoResult, demo_clock, load_demo

__all__ = ["DEMO_DAYS", "PRINTED", "PROFILES", "DemoActor", "DemoResult", "demo_clock", "load_demo"]
