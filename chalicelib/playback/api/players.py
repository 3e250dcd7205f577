"""Players (api.video PlayerThemesApi): the themes of embed pages, with their logos."""

from __future__ import annotations

from typing import Any, TypeVar

from chalice import Blueprint

from chalicelib.core.api.files import FILE_BODY, uploaded_file
from chalicelib.core.api.http import Call, Reply, endpoint
from chalicelib.core.domain.access import Permission
from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.core.permissions import MEDIA_OBJECTS_WRITE
from chalicelib.platform.api.authorizer import api_key_authorizer
from chalicelib.playback import wiring
from chalicelib.playback.api import presenters
from chalicelib.playback.domain.players import AllowedOrigins, PlayerCreation, PlayerQuery, PlayerUpdate

bp = Blueprint(__name__)
READ, WRITE = Permission.READ, Permission.WRITE
LIST_FILTERS = ("sortBy", "sortOrder")


ThemeBody = TypeVar("ThemeBody", bound=PlayerCreation)


def theme_body(call: Call, model: type[ThemeBody]) -> ThemeBody:
    payload = call.body(model)
    nulls = payload.null_violations()
    if nulls:
        names = {name: info.alias or name for name, info in model.model_fields.items()}
        raise InvalidInput([Problem("invalid-attribute", "This value should not be null.", names[n]) for n in nulls])
    return payload


@endpoint(
    bp,
    "/players",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=201,
    body=PlayerCreation,
    response="PlayerTheme",
    operation_id="POST_players",
)
def create_player(call: Call) -> Any:
    return presenters.player(wiring.player_service().create(call.actor, theme_body(call, PlayerCreation)))


@endpoint(
    bp,
    "/players",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    query=PlayerQuery,
    response="PlayerTheme",
    paged=True,
    operation_id="GET_players",
)
def list_players(call: Call) -> Any:
    query = call.query(PlayerQuery, {k: v for k in LIST_FILTERS if (v := call.single(k)) is not None})
    page = wiring.player_service().list(call.actor, query, call.page())
    return page.envelope([presenters.player(p) for p in page.items], "/players", call.filters(*LIST_FILTERS))


@endpoint(
    bp,
    "/players/{playerId}",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="PlayerTheme",
    operation_id="GET_players-playerId",
)
def get_player(call: Call, playerId: str) -> Any:  # noqa: N803 - path parameter named as in api.video
    return presenters.player(wiring.player_service().get(call.actor, playerId))


@endpoint(
    bp,
    "/players/{playerId}",
    "PATCH",
    permission=WRITE,
    authorizer=api_key_authorizer,
    body=PlayerUpdate,
    response="PlayerTheme",
    operation_id="PATCH_players-playerId",
)
def update_player(call: Call, playerId: str) -> Any:  # noqa: N803
    payload = theme_body(call, PlayerUpdate)
    return presenters.player(wiring.player_service().update(call.actor, playerId, payload))


@endpoint(
    bp,
    "/players/{playerId}",
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    uses=(MEDIA_OBJECTS_WRITE,),
    operation_id="DELETE_players-playerId",
)
def delete_player(call: Call, playerId: str) -> Any:  # noqa: N803
    wiring.player_service().delete(call.actor, playerId)
    return Reply(status=204)


@endpoint(
    bp,
    "/players/{playerId}/logo",
    "POST",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=201,
    uses=(MEDIA_OBJECTS_WRITE,),
    content_types=FILE_BODY,
    response="PlayerTheme",
    operation_id="POST_players-playerId-logo",
)
def upload_player_logo(call: Call, playerId: str) -> Any:  # noqa: N803
    """Upload a logo: JPEG or PNG, at most 200x100 pixels and 100 KiB, with an optional `link`"""
    form = uploaded_file(call)
    player = wiring.player_service().upload_logo(call.actor, playerId, form.data, form.fields.get("link"))
    return presenters.player(player)


@endpoint(
    bp,
    "/players/{playerId}/logo",
    "DELETE",
    permission=WRITE,
    authorizer=api_key_authorizer,
    status=204,
    uses=(MEDIA_OBJECTS_WRITE,),
    operation_id="DELETE_players-playerId-logo",
)
def delete_player_logo(call: Call, playerId: str) -> Any:  # noqa: N803
    wiring.player_service().delete_logo(call.actor, playerId)
    return Reply(status=204)


# -- Videoplane extension: where a player's private videos may be embedded ------------------------


@endpoint(
    bp,
    "/players/{playerId}/allowed-origins",
    "GET",
    permission=READ,
    authorizer=api_key_authorizer,
    response="PlayerAllowedOrigins",
    tag="Player allowed origins",
)
def get_player_allowed_origins(call: Call, playerId: str) -> Any:  # noqa: N803
    """The sites that may open this player's private videos (empty: any)"""
    return {"origins": list(wiring.player_service().get(call.actor, playerId).allowed_origins)}


@endpoint(
    bp,
    "/players/{playerId}/allowed-origins",
    "PUT",
    permission=WRITE,
    authorizer=api_key_authorizer,
    body=AllowedOrigins,
    response="PlayerAllowedOrigins",
    tag="Player allowed origins",
)
def put_player_allowed_origins(call: Call, playerId: str) -> Any:  # noqa: N803
    """Replaces the sites (origins such as `https://shop.example`) that may open this player's private videos"""
    player = wiring.player_service().set_allowed_origins(call.actor, playerId, call.body(AllowedOrigins))
    return {"origins": list(player.allowed_origins)}
