"""Videoplane: the local and `chalice` entry point. Registers every context's blueprints; no logic.

On Lambda each route function loads its own context's app instead (`chalicelib/<context>/handler.py`).
"""

from chalicelib.analytics.blueprints import BLUEPRINTS as ANALYTICS
from chalicelib.core.api.app import chalice_app
from chalicelib.live.blueprints import BLUEPRINTS as LIVE
from chalicelib.platform.blueprints import BLUEPRINTS as PLATFORM
from chalicelib.playback.blueprints import BLUEPRINTS as PLAYBACK
from chalicelib.rooms.blueprints import BLUEPRINTS as ROOMS
from chalicelib.vod.blueprints import BLUEPRINTS as VOD

app = chalice_app(*PLATFORM, *VOD, *LIVE, *PLAYBACK, *ROOMS, *ANALYTICS)
