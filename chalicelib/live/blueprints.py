"""Every blueprint of the live context, for its Lambda entry point (handler.py) and the local app.

Chalice consumes a blueprint's route options when it registers them, so one process builds one app
from these: app.py locally, handler.py on Lambda."""

from chalicelib.live.api import health_push, live_event_templates, live_events, live_streams
from chalicelib.live.consumers import broadcasts, channels
from chalicelib.live.consumers import health_push as health_push_consumers
from chalicelib.live.consumers import live_events as live_event_consumers

BLUEPRINTS = (
    live_streams.bp,
    channels.bp,
    broadcasts.bp,
    live_event_templates.bp,
    live_events.bp,
    live_event_consumers.bp,
    health_push.bp,
    health_push_consumers.bp,
)
