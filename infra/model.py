"""Which Lambda functions the Chalice app needs, read from its route table and event sources.

Pure Python (no CDK import): the stack builds from this plan and tests/infra compares the
synthesized template with it, so a route or consumer added to the code without infra fails.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Literal

from chalice import Chalice
from chalice.app import (
    ChaliceAuthorizer,
    CloudWatchEventConfig,
    DynamoDBEventConfig,
    ScheduledEventConfig,
    SQSEventConfig,
)

Kind = Literal["route", "authorizer", "consumer", "lambda"]

# CloudFormation metadata naming the Chalice function a resource belongs to (read by tests/infra).
FUNCTION_METADATA = "videoplane:function"

# Code is packaged by bounded context: `chalicelib.<context>.…`. A route function's handler is its
# context's Chalice app (`chalicelib.<context>.handler.app`, built from that context's blueprints
# only), which routes by the event's resourcePath and httpMethod: a cold start imports one context,
# not every context as app.py would.
CONTEXTS_PACKAGE = "chalicelib"
CONTEXT_HANDLER_MODULE = "handler"
CONTEXT_APP = "app"


class UnsupportedByInfra(Exception):
    """The app uses a Chalice feature that infra/ cannot deploy (see reference/aws-media.md §4)."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    authorizer: str | None
    api_key_required: bool


@dataclass(frozen=True)
class Authorizer:
    name: str
    header: str
    ttl_seconds: int


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    kind: Kind
    handler: str
    # The bounded context (`chalicelib.<context>`) whose code the function runs.
    context: str
    route: Route | None = None
    authorizer: Authorizer | None = None
    # The Chalice event-source config of a consumer (SQS, DynamoDB stream, EventBridge, schedule).
    source: Any = field(default=None, compare=False)

    @property
    def description(self) -> str:
        if self.route is not None:
            return f"{self.route.method} {self.route.path}"
        if self.kind == "authorizer":
            return "API Gateway TOKEN authorizer"
        return f"{type(self.source).__name__ if self.source is not None else 'Lambda'} {self.name}"


_CONSUMERS = (SQSEventConfig, DynamoDBEventConfig, CloudWatchEventConfig, ScheduledEventConfig)


def plan(app: Chalice) -> list[FunctionSpec]:
    """One function per (method, path), per built-in authorizer, per event consumer and per
    `app.lambda_function`; names are Chalice's (the view or handler name)."""
    specs = [*_routes(app), *_authorizers(app), *_consumers(app), *_lambdas(app)]
    seen: dict[str, FunctionSpec] = {}
    for spec in specs:
        if spec.name in seen:
            raise UnsupportedByInfra(
                f"two functions are both named {spec.name!r} ({seen[spec.name].description}; {spec.description})"
            )
        seen[spec.name] = spec
    return specs


def context_of(module: str, what: str) -> str:
    """`chalicelib.vod.api.videos` -> `vod`."""
    parts = module.split(".")
    if len(parts) < 3 or parts[0] != CONTEXTS_PACKAGE:
        raise UnsupportedByInfra(
            f"{what}: its code is in {module!r}, not in a context package ({CONTEXTS_PACKAGE}.<context>.<module>)"
        )
    return parts[1]


def module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def route_handler(context: str, what: str) -> str:
    """The handler string of a route function of `context`: its context's Chalice app."""
    module = f"{CONTEXTS_PACKAGE}.{context}.{CONTEXT_HANDLER_MODULE}"
    # Found without importing it: a second app built from the same blueprints in this process would
    # find their route options already consumed by app.py's.
    if not module_exists(module):
        raise UnsupportedByInfra(
            f"{what}: context {context!r} has no Lambda entry point {module} "
            f"(a module whose `{CONTEXT_APP}` is built from that context's blueprints)"
        )
    return f"{module}.{CONTEXT_APP}"


def _routes(app: Chalice) -> list[FunctionSpec]:
    specs = []
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            authorizer = entry.authorizer
            if authorizer is not None and not isinstance(authorizer, ChaliceAuthorizer):
                raise UnsupportedByInfra(f"{method} {path}: only Chalice built-in authorizers are deployed")
            route = Route(
                method=method,
                path=path,
                authorizer=authorizer.name if authorizer is not None else None,
                api_key_required=bool(entry.api_key_required),
            )
            what = f"{method} {path} ({entry.view_name})"
            context = context_of(entry.view_function.__module__, what)
            specs.append(
                FunctionSpec(
                    name=entry.view_name,
                    kind="route",
                    handler=route_handler(context, what),
                    context=context,
                    route=route,
                )
            )
    return specs


def _authorizers(app: Chalice) -> list[FunctionSpec]:
    specs = []
    for config in app.builtin_auth_handlers:
        if config.execution_role:
            raise UnsupportedByInfra(f"authorizer {config.name}: execution_role is set by infra, not the app")
        if config.ttl_seconds is None:
            raise UnsupportedByInfra(f"authorizer {config.name}: ttl_seconds must be set explicitly")
        authorizer = Authorizer(name=config.name, header=config.header, ttl_seconds=config.ttl_seconds)
        specs.append(
            FunctionSpec(
                name=config.name,
                kind="authorizer",
                handler=config.handler_string,
                context=_handler_context(config.handler_string, f"authorizer {config.name}"),
                authorizer=authorizer,
            )
        )
    return specs


def _consumers(app: Chalice) -> list[FunctionSpec]:
    specs = []
    for source in app.event_sources:
        if not isinstance(source, _CONSUMERS):
            raise UnsupportedByInfra(
                f"{source.name}: {type(source).__name__} is not deployable by infra/ "
                "(on_s3_event cannot be packaged for CloudFormation: use S3 -> SQS or S3 -> EventBridge "
                "with on_sqs_message / on_cw_event; SNS and Kinesis are not used by Videoplane)"
            )
        if isinstance(source, SQSEventConfig) and not source.queue:
            raise UnsupportedByInfra(f"{source.name}: name the queue (queue=...), infra creates it and its DLQ")
        specs.append(
            FunctionSpec(
                name=source.name,
                kind="consumer",
                handler=source.handler_string,
                context=_handler_context(source.handler_string, f"consumer {source.name}"),
                source=source,
            )
        )
    if app.websocket_handlers:
        raise UnsupportedByInfra("websocket handlers are not deployed by infra/")
    return specs


def _lambdas(app: Chalice) -> list[FunctionSpec]:
    return [
        FunctionSpec(
            name=fn.name,
            kind="lambda",
            handler=fn.handler_string,
            context=_handler_context(fn.handler_string, f"function {fn.name}"),
        )
        for fn in app.pure_lambda_functions
    ]


def _handler_context(handler: str, what: str) -> str:
    return context_of(handler.rpartition(".")[0], what)


def camel(name: str) -> str:
    """`create_video` -> `CreateVideo` (Chalice's logical-id style)."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_"))
