"""Videoplane: the Chalice app. Middleware and blueprint registration only."""

from chalice import Chalice

from chalicelib.core.api.middleware import conventions
from chalicelib.core.resources import APP_NAME
from chalicelib.platform.api import api_keys, audit, auth, authorizer, event_schemas
from chalicelib.platform.api import webhooks as webhook_routes
from chalicelib.platform.consumers import outbox
from chalicelib.platform.consumers import webhooks as webhook_consumers
from chalicelib.vod.api import direct_uploads, encoding_profiles, thumbnails, tracks, uploads, videos, watermarks
from chalicelib.vod.consumers import pipeline

app = Chalice(app_name=APP_NAME, configure_logs=False)
# File bodies reach the Lambdas as bytes (API Gateway would otherwise pass them as text).
app.api.binary_types.append("multipart/form-data")
app.register_middleware(conventions, "http")
for blueprint in (
    authorizer.bp, auth.bp, api_keys.bp, audit.bp, event_schemas.bp, webhook_routes.bp, outbox.bp,
    webhook_consumers.bp, videos.bp, tracks.bp, thumbnails.bp, watermarks.bp, encoding_profiles.bp, uploads.bp,
    direct_uploads.bp, pipeline.bp,
):  # fmt: skip
    app.register_blueprint(blueprint)
