"""The live events' health push channel on AWS: an API Gateway WebSocket API (docs/live.md, "Health
push channel"). Its API and stage are the parent's (every function's environment names its URLs, and
the push consumer's role its @connections); its `$connect` and `$disconnect` routes and their
Lambda integrations are added by the stack holding those functions (the live nested stack).

`$connect` authenticates in its function (a subscription token in the query string: browsers cannot
set headers on a WebSocket), so the routes have no API Gateway authorizer."""

from __future__ import annotations

import json
from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from chalicelib.core import resources
from chalicelib.core.permissions import Access
from infra import common, settings
from infra.functions import AppFunction
from infra.model import camel

STAGE = "live"
# The Management API calls the push consumer makes: PostToConnection, and DeleteConnection once an
# event ended.
CONNECTION_METHODS = ("POST", "DELETE")
# The WebSocket API's routes and the functions behind them (app.lambda_function names).
ROUTES = {
    "$connect": resources.LIVE_EVENT_HEALTH_CONNECT,
    "$disconnect": resources.LIVE_EVENT_HEALTH_DISCONNECT,
    "$default": resources.LIVE_EVENT_HEALTH_REQUEST,
}
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "connectionId": "$context.connectionId",
    "status": "$context.status",
    "integrationError": "$context.integrationErrorMessage",
}


class HealthPushApi(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays[settings.LOG_RETENTION],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.api = apigwv2.CfnApi(
            self,
            "Api",
            name=f"{stack.stack_name}-live-event-health",
            description="Videoplane live events' health push channel (WebSocket)",
            protocol_type="WEBSOCKET",
            route_selection_expression="$request.body.action",
        )
        self.stage = apigwv2.CfnStage(
            self,
            "Stage",
            api_id=self.api.ref,
            stage_name=STAGE,
            # Routes are added by a nested stack: every change to them is deployed by itself.
            auto_deploy=True,
            default_route_settings=apigwv2.CfnStage.RouteSettingsProperty(
                logging_level="ERROR", data_trace_enabled=False
            ),
            access_log_settings=apigwv2.CfnStage.AccessLogSettingsProperty(
                destination_arn=access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT)
            ),
        )
        host = f"{self.api.ref}.execute-api.{stack.region}.{stack.url_suffix}"
        # What clients open, and where the Management API is called (API Gateway's callback URL).
        self.push_url = f"wss://{host}/{STAGE}"
        self.callback_url = f"https://{host}/{STAGE}"
        # execute-api:ManageConnections on this stage's connections only: posting a document, and
        # closing the connections of an event that ended.
        self.connections_arns = [
            stack.format_arn(
                service="execute-api",
                resource=self.api.ref,
                resource_name=f"{STAGE}/{method}/@connections/*",
                arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
            )
            for method in CONNECTION_METHODS
        ]

    def connect(
        self, scope: Construct, functions: Mapping[str, AppFunction], registry: Mapping[str, frozenset[Access]]
    ) -> None:
        """The WebSocket routes of those of `functions` behind them (the live context's), and the
        acknowledgement of whichever of them posts to connections."""
        for route_key, name in ROUTES.items():
            if name in functions:
                self.add_route(scope, route_key, functions[name])
        for name, target in functions.items():
            if any(access.resource == resources.LIVE_EVENT_HEALTH_API for access in registry[name]):
                self.acknowledge_sender(target)

    def acknowledge_sender(self, target: AppFunction) -> None:
        """The push consumer's ManageConnections on `@connections/*` of this API's stage."""
        api = f"<{cdk.Stack.of(self.api).get_logical_id(self.api)}>"
        if cdk.Stack.of(target).node.path != cdk.Stack.of(self.api).node.path:
            api = f"<referenceto{cdk.Names.node_unique_id(self.api.node)}Ref>"
        for method in CONNECTION_METHODS:
            common.acknowledge(
                target.role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:{api}"
                f"/{STAGE}/{method}/@connections/*]",
                "execute-api:ManageConnections (declared in chalicelib.core.permissions) on the health push API's "
                "connections of its one stage: connection ids exist only once clients connect.",
            )

    def add_route(self, scope: Construct, route_key: str, target: AppFunction) -> None:
        """The route and its Lambda proxy integration, in `scope`'s stack (the function's)."""
        stack = cdk.Stack.of(scope)
        name = camel(target.spec.name)
        integration = apigwv2.CfnIntegration(
            scope,
            f"{name}Integration",
            api_id=self.api.ref,
            integration_type="AWS_PROXY",
            integration_uri=(
                f"arn:{stack.partition}:apigateway:{stack.region}:lambda:path/2015-03-31/functions/"
                f"{target.function.function_arn}/invocations"
            ),
        )
        route = apigwv2.CfnRoute(
            scope,
            f"{name}Route",
            api_id=self.api.ref,
            route_key=route_key,
            authorization_type="NONE",
            target=f"integrations/{integration.ref}",
        )
        target.function.add_permission(
            f"{name}WebSocketInvoke",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            source_arn=stack.format_arn(
                service="execute-api",
                resource=self.api.ref,
                resource_name=f"{STAGE}/{route_key}",
                arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
            ),
        )
        if route_key == "$connect":
            common.acknowledge(
                route,
                "AwsSolutions-APIG4",
                "$connect authenticates in its function: a short-lived subscription token (POST "
                "/live-events/{id}/health/subscriptions, behind the API's authorizer) in the query string, "
                "since browsers cannot set headers on a WebSocket; an unknown token is refused with 401.",
            )
        else:
            common.acknowledge(
                route,
                "AwsSolutions-APIG4",
                f"{route_key} is reached only on a connection $connect admitted (API Gateway authorizes a "
                "WebSocket connection once, at $connect).",
            )
