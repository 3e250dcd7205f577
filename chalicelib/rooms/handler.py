"""Entry point of the rooms route functions on Lambda: only this context's blueprints."""

from chalicelib.core.api.app import chalice_app
from chalicelib.rooms.blueprints import BLUEPRINTS

app = chalice_app(*BLUEPRINTS)
