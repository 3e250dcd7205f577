"""Every blueprint of the VOD context, for its Lambda entry point (handler.py) and the local app.

Chalice consumes a blueprint's route options when it registers them, so one process builds one app
from these: app.py locally, handler.py on Lambda."""

from chalicelib.vod.api import direct_uploads, encoding_profiles, thumbnails, tracks, uploads, videos, watermarks
from chalicelib.vod.consumers import pipeline, purge, recordings

BLUEPRINTS = (
    videos.bp, tracks.bp, thumbnails.bp, watermarks.bp, encoding_profiles.bp, uploads.bp, direct_uploads.bp,
    pipeline.bp, purge.bp, recordings.bp,
)  # fmt: skip
