"""Entry point of the VOD route functions on Lambda: only this context's
blueprints, so a VOD route's cold start does not import webhooks or auth."""

from chalicelib.core.api.app import chalice_app
from chalicelib.vod.blueprints import BLUEPRINTS

app = chalice_app(*BLUEPRINTS)
