"""Every blueprint of the playback context, for its Lambda entry point (handler.py) and the local app.

Chalice consumes a blueprint's route options when it registers them, so one process builds one app
from these: app.py locally, handler.py on Lambda."""

from chalicelib.playback.api import embed, geo, playback_keys, players
from chalicelib.playback.consumers import edge, session_keys

BLUEPRINTS = (players.bp, embed.bp, playback_keys.bp, edge.bp, session_keys.bp, geo.bp)
