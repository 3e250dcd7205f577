"""Every blueprint of the analytics context, for its Lambda entry point (handler.py) and the local app."""

from chalicelib.analytics.api import account, beacons, data, sessions
from chalicelib.analytics.consumers import rollup, usage

BLUEPRINTS = (beacons.bp, data.bp, account.bp, usage.bp, rollup.bp, sessions.bp)
