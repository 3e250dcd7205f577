"""Every blueprint of the rooms context, for its Lambda entry point (handler.py) and the local app.

Chalice consumes a blueprint's route options when it registers them, so one process builds one app
from these: app.py locally, handler.py on Lambda."""

from chalicelib.rooms.api import enablex, joins, page, recordings, rooms, sessions, tokens
from chalicelib.rooms.consumers import sessions as session_polls
from chalicelib.rooms.consumers import stages

BLUEPRINTS = (
    rooms.bp,
    tokens.bp,
    joins.bp,
    page.bp,
    sessions.bp,
    recordings.bp,
    enablex.bp,
    stages.bp,
    session_polls.bp,
)
