"""The API Gateway TOKEN authorizer every authenticated route of every context names."""

from __future__ import annotations

import uuid
from typing import Any

from chalice import AuthResponse, Blueprint
from chalice.app import AuthRequest

from chalicelib.core import resources
from chalicelib.core.domain.errors import AuthenticationFailed
from chalicelib.core.permissions import SIGNING_KEYS_READ, TABLE_READ, TABLE_WRITE, declare
from chalicelib.platform import wiring

bp = Blueprint(__name__)

# Reads keys, verifies tokens, and audits failures of known keys.
declare("api_key_authorizer", (TABLE_READ, TABLE_WRITE, SIGNING_KEYS_READ))


@bp.authorizer(ttl_seconds=resources.AUTHORIZER_RESULT_TTL_SECONDS)
def api_key_authorizer(auth_request: AuthRequest) -> Any:
    try:
        principal = wiring.auth_service().authenticate(auth_request.token, f"authorizer-{uuid.uuid4()}")
    except AuthenticationFailed as failure:
        return deny(auth_request.method_arn, failure)
    # Allow every route: API Gateway caches this answer per token for all of them; roles are
    # enforced by each view.
    return AuthResponse(routes=["*"], principal_id=principal.key_id, context=principal.to_context())


def deny(method_arn: str, failure: AuthenticationFailed) -> dict[str, Any]:
    """A Deny whose context names the api.video problem the ACCESS_DENIED gateway response renders."""
    api_and_stage = "/".join(method_arn.split(":", 5)[-1].split("/")[:2])
    resource = ":".join([*method_arn.split(":", 5)[:5], f"{api_and_stage}/*"])
    return {
        "principalId": "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [resource]}],
        },
        "context": {"problemSlug": failure.slug, "problemTitle": failure.title.replace('"', '\\"')},
    }
