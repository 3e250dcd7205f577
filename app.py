"""Videoplane: the Chalice app. Middleware and blueprint registration only."""

from chalice import Chalice

from chalicelib.api import admin, auth, captions, direct_uploads, encoding_profiles, events, images, uploads, videos
from chalicelib.api import webhooks as webhook_routes
from chalicelib.api.middleware import conventions
from chalicelib.events import outbox, pipeline
from chalicelib.events import webhooks as webhook_events
from chalicelib.resources import APP_NAME

app = Chalice(app_name=APP_NAME, configure_logs=False)
# File bodies reach the Lambdas as bytes (API Gateway would otherwise pass them as text).
app.api.binary_types.append("multipart/form-data")
app.register_middleware(conventions, "http")
app.register_blueprint(auth.bp)
app.register_blueprint(videos.bp)
app.register_blueprint(captions.bp)
app.register_blueprint(images.bp)
app.register_blueprint(encoding_profiles.bp)
app.register_blueprint(admin.bp)
app.register_blueprint(events.bp)
app.register_blueprint(webhook_routes.bp)
app.register_blueprint(outbox.bp)
app.register_blueprint(webhook_events.bp)
app.register_blueprint(uploads.bp)
app.register_blueprint(direct_uploads.bp)
app.register_blueprint(pipeline.bp)
