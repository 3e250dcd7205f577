"""Entry point of the playback route functions on Lambda: only this context's blueprints, so a playback
route's cold start does not import videos or webhooks."""

from chalicelib.core.api.app import chalice_app
from chalicelib.playback.blueprints import BLUEPRINTS

app = chalice_app(*BLUEPRINTS)
