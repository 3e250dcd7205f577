"""The REST API (parent stack): stage, access logs, gateway responses, the authorizers and their
functions, the API's resource tree, the direct-to-S3 upload routes; and `add_route`, with which each
context's nested stack adds its routes' methods to this API.

Every API Gateway resource (path part) is created in the parent, whichever context's routes use
it: a path part never moves between stacks when a context adds a route below another's, and two
stacks never both create the same path (which API Gateway would refuse). A method lives in the
stack of its function. The deployment and stage are the parent's and depend on every nested
stack, so a deployment always carries every method.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from chalice import Chalice
from constructs import Construct

from chalicelib.core import resources
from chalicelib.core.api.http import cors_preflight
from infra import common, settings
from infra.functions import AppFunction, InlineRole
from infra.model import FUNCTION_METADATA, FunctionSpec, camel

# CloudFormation metadata naming the authorizer of a direct-to-S3 upload method (read by tests/infra).
DIRECT_UPLOAD_METADATA = "videoplane:direct-upload"
# Where API Gateway may write upload request bodies (the authorizer picks the key under one of them).
DIRECT_UPLOAD_PREFIXES = (resources.INCOMING_PREFIX, resources.REJECTED_PREFIX)
# The S3 PutObject request: key, content type and metadata from the authorizer's context
# (resources.DirectUploadRoute) and the caller's Content-Type (its multipart boundary).
DIRECT_UPLOAD_REQUEST_PARAMETERS = {
    "integration.request.path.objectKey": "context.authorizer.objectKey",
    "integration.request.header.Content-Type": "'application/octet-stream'",
    "integration.request.header.x-amz-meta-content-range": "context.authorizer.contentRange",
    "integration.request.header.x-amz-meta-upload-token": "context.authorizer.uploadToken",
    "integration.request.header.x-amz-meta-content-type": "method.request.header.Content-Type",
}
# S3 stored the body: answer with the status and body the authorizer chose.
DIRECT_UPLOAD_RESPONSE_TEMPLATE = (
    "#set($context.responseOverride.status = $context.authorizer.responseStatus)$context.authorizer.responseBody"
)
# A path parameter, which an execute-api ARN spells `*`.
_PATH_PARAMETER = re.compile(r"\{[^}]*\}")
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "principalId": "$context.authorizer.principalId",
    "authorizerError": "$context.authorizer.error",
    "errorMessage": "$context.error.message",
    "xrayTraceId": "$context.xrayTraceId",
}


def direct_upload_authorizers() -> set[str]:
    """The functions that authorize resources.DIRECT_UPLOAD_ROUTES (REQUEST authorizers)."""
    return {route.authorizer for route in resources.DIRECT_UPLOAD_ROUTES}


def binary_media_types(app: Chalice) -> list[str]:
    """The Chalice app's binary types and infra's own (settings.EXTRA_BINARY_MEDIA_TYPES)."""
    types = list(app.api.binary_types)
    return types + [t for t in settings.EXTRA_BINARY_MEDIA_TYPES if t not in types]


class Api:
    """The REST API with its TOKEN authorizers, gateway responses, 5XX alarm and direct-upload routes,
    built in the parent stack `stack`; nested stacks add their methods with `add_route`."""

    def __init__(
        self,
        stack: cdk.Stack,
        *,
        chalice_app: Chalice,
        specs: Iterable[FunctionSpec],
        functions: Mapping[str, AppFunction],
        uploads_bucket: s3.Bucket,
        alarm_topic: sns.ITopic,
    ) -> None:
        access_logs = logs.LogGroup(
            stack,
            "ApiAccessLogs",
            retention=logs.RetentionDays[settings.LOG_RETENTION],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        api = apigw.RestApi(
            stack,
            "Api",
            rest_api_name=f"{stack.stack_name}-api",
            description="Videoplane REST API (api.video compatible)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=binary_media_types(chalice_app),
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.DESTROY,
            fail_on_warnings=True,
            deploy_options=apigw.StageOptions(
                stage_name=settings.API_STAGE,
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
        )
        self.api = api
        self.stack = stack
        self.functions = functions
        self.buckets = {resources.UPLOADS_BUCKET.name: uploads_bucket}
        self.authorizers: dict[str, apigw.TokenAuthorizer] = {}
        for spec in specs:
            if spec.authorizer is None:
                continue
            self.authorizers[spec.name] = apigw.TokenAuthorizer(
                stack,
                f"{camel(spec.name)}Authorizer",
                handler=functions[spec.name].function,
                identity_source=apigw.IdentitySource.header(spec.authorizer.header),
                results_cache_ttl=cdk.Duration.seconds(spec.authorizer.ttl_seconds),
                authorizer_name=spec.name,
            )
        for response_type, response in resources.GATEWAY_RESPONSES.items():
            api.add_gateway_response(
                f"{camel(response_type.lower())}Response",
                type=apigw.ResponseType.of(response_type),
                status_code=str(response["status"]),
                templates={"application/json": response["template"]},
            )
        common.alarm_on(
            stack,
            "ApiServerErrors",
            description="Videoplane API answered 5XX",
            metric=api.metric_server_error(period=common.FIVE_MINUTES, statistic="Sum"),
            topic=alarm_topic,
        )
        common.acknowledge(
            common.cfn(api),
            "AwsSolutions-APIG2",
            "Requests are validated by the functions (pydantic), which answer in api.video's problem format; "
            "an API Gateway request validator would answer in its own format.",
        )
        common.acknowledge(
            api.deployment_stage,
            "AwsSolutions-APIG3",
            "No WAF web ACL by default (about $6/month at idle); per-project rate limits are enforced by the "
            "app. Associate a web ACL with the stage where needed.",
        )
        common.acknowledge(
            api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level API Gateway logging role uses the AWS-managed policy made for it; it only "
            "writes API Gateway's own execution logs.",
        )
        self._direct_upload_routes(api)
        self._cors_preflights(api, chalice_app)

    def _cors_preflights(self, api: apigw.RestApi, chalice_app: Chalice) -> None:
        """Paths a page on any origin may call (`endpoint(cross_origin=True)`): API Gateway answers
        their preflight itself (a mock integration, as `chalice package` would build it), so no
        function runs and no credential is asked for an OPTIONS."""
        for path, route_methods in sorted(chalice_app.routes.items()):
            headers = cors_preflight(route_methods)
            if headers is None:
                continue
            method = api.root.resource_for_path(path).add_method(
                "OPTIONS",
                apigw.MockIntegration(
                    request_templates={"application/json": '{"statusCode": 200}'},
                    passthrough_behavior=apigw.PassthroughBehavior.WHEN_NO_MATCH,
                    integration_responses=[
                        apigw.IntegrationResponse(
                            status_code="200",
                            response_parameters={
                                f"method.response.header.{name}": f"'{value}'" for name, value in headers.items()
                            },
                        )
                    ],
                ),
                method_responses=[
                    apigw.MethodResponse(
                        status_code="200",
                        response_parameters={f"method.response.header.{name}": True for name in headers},
                    )
                ],
            )
            common.acknowledge(
                method,
                "AwsSolutions-APIG4",
                f"The CORS preflight of {path}: browsers send it without credentials, and API Gateway answers "
                "it itself (a mock integration); the route it precedes checks its own credential.",
            )
            common.acknowledge(method, "AwsSolutions-COG4", "A CORS preflight takes no credentials (see APIG4).")

    def resource_for(self, path: str) -> apigw.IResource:
        """The API Gateway resource of `path`, created in the parent stack if new."""
        return self.api.root.resource_for_path(path)

    def add_route(self, scope: Construct, spec: FunctionSpec, function: AppFunction) -> apigw.Method:
        """The method of a route, in `scope` (the stack of its function): a Lambda proxy integration to
        its own function, behind the TOKEN authorizer the route declares. The Lambda invoke permission
        lands next to the function; the parent's deployment depends on the method."""
        route = spec.route
        if route is None:
            raise ValueError(f"{spec.name} is not a route")
        authorizer = self.authorizers[route.authorizer] if route.authorizer else None
        # What LambdaIntegration builds, minus its invoke permission: that one's source ARN names the
        # stage by reference, and a nested stack referencing the stage, which depends on the
        # deployment, which depends on the nested stacks, is a cycle. The stage name is fixed.
        integration = apigw.AwsIntegration(
            service="lambda",
            proxy=True,
            path=f"2015-03-31/functions/{function.function.function_arn}/invocations",
        )
        method = apigw.Method(
            scope,
            f"{camel(spec.name)}Method",
            resource=self.resource_for(route.path),
            http_method=route.method,
            integration=integration,
            options=apigw.MethodOptions(
                authorizer=authorizer,
                authorization_type=apigw.AuthorizationType.CUSTOM if authorizer else apigw.AuthorizationType.NONE,
                api_key_required=route.api_key_required,
            ),
        )
        function.function.add_permission(
            "ApiPermission",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            source_arn=self.api.arn_for_execute_api(
                route.method, _PATH_PARAMETER.sub("*", route.path), settings.API_STAGE
            ),
        )
        common.cfn(method).add_metadata(FUNCTION_METADATA, spec.name)
        if authorizer is None:
            common.acknowledge(
                method,
                "AwsSolutions-APIG4",
                f"{route.method} {route.path} is how a client obtains credentials (it takes the API key or "
                "refresh token in its body, as api.video's does); it cannot require them.",
            )
            common.acknowledge(
                method, "AwsSolutions-COG4", "Takes no credentials by design (see AwsSolutions-APIG4 here)."
            )
        else:
            common.acknowledge(
                method,
                "AwsSolutions-COG4",
                "Callers authenticate with api.video-style API keys and access tokens through the Lambda "
                "TOKEN authorizer, not Cognito user pools.",
            )
        return method

    def _direct_upload_routes(self, api: apigw.RestApi) -> None:
        """resources.DIRECT_UPLOAD_ROUTES: API Gateway stores the request body in the uploads bucket
        (S3 PutObject) where the REQUEST authorizer's context says, and answers what that context
        says (devstack/gateway.py::_direct_upload plays the same)."""
        bucket = self.buckets[resources.UPLOADS_BUCKET.name]
        role = InlineRole(
            self.stack,
            "DirectUploadRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Videoplane: API Gateway stores upload request bodies in the uploads bucket",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in DIRECT_UPLOAD_PREFIXES],
            )
        )
        bucket_id = self.stack.get_logical_id(common.cfn(bucket))
        for prefix in DIRECT_UPLOAD_PREFIXES:
            common.acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
                f"API Gateway writes request bodies under {prefix} of the uploads bucket at keys the upload "
                "authorizer derives per request (project, video, request id); nothing outside that prefix.",
            )
        error_template = resources.GATEWAY_RESPONSES["AUTHORIZER_FAILURE"]["template"]
        json_header = {"method.response.header.Content-Type": "'application/json'"}
        authorizers: dict[str, apigw.RequestAuthorizer] = {}
        for route in resources.DIRECT_UPLOAD_ROUTES:
            target = self.functions.get(route.authorizer)
            if target is None:
                raise KeyError(
                    f"{route.method} {route.path}: its authorizer {route.authorizer!r} is not a function of the app "
                    "(an app.lambda_function of that name)"
                )
            if route.authorizer not in authorizers:
                authorizer = apigw.RequestAuthorizer(
                    self.stack,
                    f"{camel(route.authorizer)}Authorizer",
                    handler=target.function,
                    # CDK insists on an identity source; API Gateway needs none without caching, and with one
                    # it would answer 401 itself whenever that header is missing. Removed below.
                    identity_sources=[apigw.IdentitySource.header("Content-Type")],
                    # Every part differs (Content-Range, body length): never cache a decision.
                    results_cache_ttl=cdk.Duration.seconds(0),
                    authorizer_name=route.authorizer,
                )
                common.cfn(authorizer).add_property_deletion_override("IdentitySource")
                authorizers[route.authorizer] = authorizer
            integration = apigw.AwsIntegration(
                service="s3",
                integration_http_method="PUT",
                path=f"{bucket.bucket_name}/{{objectKey}}",
                options=apigw.IntegrationOptions(
                    credentials_role=role,
                    request_parameters=DIRECT_UPLOAD_REQUEST_PARAMETERS,
                    # No request template: the body (a binary media type) goes to S3 unchanged.
                    passthrough_behavior=apigw.PassthroughBehavior.WHEN_NO_TEMPLATES,
                    integration_responses=[
                        apigw.IntegrationResponse(
                            status_code="200",
                            response_templates={"application/json": DIRECT_UPLOAD_RESPONSE_TEMPLATE},
                            response_parameters=json_header,
                        ),
                        # S3 refused or failed: api.video's server error, as for a failing authorizer.
                        apigw.IntegrationResponse(
                            status_code="500",
                            selection_pattern=r"[45]\d{2}",
                            response_templates={"application/json": error_template},
                            response_parameters=json_header,
                        ),
                    ],
                ),
            )
            method = api.root.resource_for_path(route.path).add_method(
                route.method,
                integration,
                authorizer=authorizers[route.authorizer],
                authorization_type=apigw.AuthorizationType.CUSTOM,
                request_parameters={"method.request.header.Content-Type": False},
                method_responses=[
                    apigw.MethodResponse(status_code=status, response_parameters={name: True for name in json_header})
                    for status in ("200", "500")
                ],
            )
            common.cfn(method).add_metadata(DIRECT_UPLOAD_METADATA, route.authorizer)
            common.acknowledge(
                method,
                "AwsSolutions-COG4",
                f"Callers authenticate with API keys, access tokens or upload tokens through the Lambda REQUEST "
                f"authorizer {route.authorizer}, not Cognito user pools.",
            )
