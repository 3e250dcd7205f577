"""Entry point of the live route functions on Lambda: only this context's blueprints, so a live
route's cold start does not import videos or webhooks."""

from chalicelib.core.api.app import chalice_app
from chalicelib.live.blueprints import BLUEPRINTS

app = chalice_app(*BLUEPRINTS)
