"""Entry point of the analytics route functions on Lambda: only this context's blueprints."""

from chalicelib.analytics.blueprints import BLUEPRINTS
from chalicelib.core.api.app import chalice_app

app = chalice_app(*BLUEPRINTS)
