"""The Chalice app every entry point builds: the HTTP conventions, then the blueprints it serves."""

from __future__ import annotations

from chalice import Blueprint, Chalice

from chalicelib.core.api.middleware import conventions, event_conventions
from chalicelib.core.resources import APP_NAME


def chalice_app(*blueprints: Blueprint) -> Chalice:
    app = Chalice(app_name=APP_NAME, configure_logs=False)
    # File bodies reach the Lambdas as bytes (API Gateway would otherwise pass them as text).
    app.api.binary_types.append("multipart/form-data")
    app.register_middleware(conventions, "http")
    for event_type in ("s3", "sns", "sqs", "cloudwatch", "scheduled", "kinesis", "dynamodb", "pure_lambda"):
        app.register_middleware(event_conventions, event_type)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app
