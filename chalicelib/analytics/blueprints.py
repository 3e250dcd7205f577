"""Every blueprint of the analytics context, for its Lambda entry point (handler.py) and the local app."""

from chalicelib.analytics.api import beacons, data

BLUEPRINTS = (beacons.bp, data.bp)
