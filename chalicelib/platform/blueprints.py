"""Every blueprint of the platform context, for its Lambda entry point (handler.py) and the local app.

Chalice consumes a blueprint's route options when it registers them, so one process builds one app
from these: app.py locally, handler.py on Lambda."""

from chalicelib.platform.api import api_docs, api_keys, audit, auth, authorizer, event_schemas, webhooks
from chalicelib.platform.consumers import outbox
from chalicelib.platform.consumers import webhooks as webhook_consumers

BLUEPRINTS = (
    authorizer.bp, auth.bp, api_docs.bp, api_keys.bp, audit.bp, event_schemas.bp, webhooks.bp, outbox.bp,
    webhook_consumers.bp,
)  # fmt: skip
