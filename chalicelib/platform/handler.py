"""Entry point of the platform's route functions on Lambda: only this context's blueprints, so a
platform route's cold start does not import VOD (infra points each route at its context's app)."""

from chalicelib.core.api.app import chalice_app
from chalicelib.platform.blueprints import BLUEPRINTS

app = chalice_app(*BLUEPRINTS)
