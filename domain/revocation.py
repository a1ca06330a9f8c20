"""Whether an access token was revoked, from what its revocation keys hold (serve/sessions.py writes them): the
user's token generation, its session's end mark and its own revocation mark. Checked by the API replica, or, on a
hot path, folded into a read that happens anyway (an actor's, when the replica passes it a `Revocation`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from domain.errors import Unauthorized


class Revocation(NamedTuple):
    keys: list[str]  # the user's generation, the session's end mark, the token's own mark
    generation: int  # the token's


def refuse_if_revoked(values: Sequence[str | None], generation: int) -> None:
    """Unauthorized `token_revoked` when the keys' `values` say so."""
    user_generation, session_ended, revoked = values
    if session_ended or revoked or int(user_generation or 0) > generation:
        raise Unauthorized("token_revoked", "This access token was revoked (logout or a password change); "
                           "log in again")
