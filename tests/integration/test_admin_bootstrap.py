"""The admin of BAZAAR_ADMIN_EMAIL at start, on the session's real actors: an email someone else registered
through the public API first is not made admin, and the start stops with a message saying why."""

from __future__ import annotations

import uuid

import pytest
import ray
from pydantic import SecretStr

from actors.routing import Router
from config import Settings
from domain.errors import Conflict
from serve.main import create_admin

pytestmark = pytest.mark.ray


def test_a_start_whose_admin_email_belongs_to_someone_else_is_refused(platform: Settings) -> None:
    email = f"squatter-{uuid.uuid4().hex[:12]}@example.com"
    router = Router(platform)
    bootstrapper = router.shard("users", "bootstrap-admin")
    other = router.handle("users", (bootstrapper + 1) % platform.user_shards)  # the refusal crosses shards
    squatter = ray.get(other.register.remote(email, "Squatter-pass-1", "Mallory", "Squat"))
    configured = platform.model_copy(update={"admin_email": email, "admin_password": SecretStr("Admin-pass-5678")})

    with pytest.raises(SystemExit) as stopped:
        create_admin(configured)
    assert isinstance(stopped.value.code, str)
    assert f"cannot create the admin {email}" in stopped.value.code and "already exists" in stopped.value.code
    assert ray.get(other.get.remote(squatter["id"]))["role"] == "customer"


def test_a_start_with_the_accounts_own_password_makes_it_admin(platform: Settings) -> None:
    email = f"owner-{uuid.uuid4().hex[:12]}@example.com"
    handle = Router(platform).owner("users", "bootstrap-admin")
    owner = ray.get(handle.register.remote(email, "Owner-pass-1234", "Olive", "Owner"))
    create_admin(platform.model_copy(update={"admin_email": email, "admin_password": SecretStr("Owner-pass-1234")}))
    assert ray.get(handle.get.remote(owner["id"]))["role"] == "admin"


def test_the_refusal_is_the_domain_error_not_rays_wrapper(platform: Settings) -> None:
    from actors.system import bootstrap

    email = f"taken-{uuid.uuid4().hex[:12]}@example.com"
    ray.get(Router(platform).owner("users", "bootstrap-admin").register.remote(email, "Taken-pass-1234", "T", "K"))
    with pytest.raises(Conflict) as refused:
        bootstrap(platform.model_copy(update={"admin_email": email, "admin_password": SecretStr("Other-pass-1234")}))
    assert refused.value.code == "admin_email_taken"
