"""The user shard: single writer of the users whose id hashes to it (profiles, addresses, seller applications).

Users are loaded lazily from `keys.users(shard)` on first use. Emails are unique through the global index
`keys.USER_EMAILS` (email -> user_id), claimed with HSETNX *before* the user is created; a claim whose user was
never written (the shard died between claim and commit) is an orphan, and a later registration takes it over
once the claim is older than ORPHAN_GRACE_SECONDS, so an in-flight registration is never stolen.
Seller applications are mirrored to `keys.SELLERS` (seller_id -> JSON) by the shard owning the user, in the
same transaction as the user. Passwords are hashed on the shard's gate (domain/passwords.py): at most
`max_concurrent_password_hashes` at once, and a registration is answered 503 `busy` past its queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

from ulid import ULID

from actors import keys
from actors.admin_log import record, recorded
from actors.payouts import PayoutCommands
from actors.routing import Router, local_id, shard_of
from actors.store import Changes
from config import Settings
from domain.admin_log import AdminAction
from domain.clock import epoch, now_iso
from domain.errors import Conflict, Forbidden, NotFound, Unavailable
from domain.ids import is_id, new_id
from domain.passwords import Passwords, check_password
from domain.sellers import SellerApplication
from domain.users import Role, User, normalize_email

T = TypeVar("T")
ORPHAN_GRACE_SECONDS = 60.0
WISHLIST_MAX = 200  # products on one wishlist

# Set the email's owner to ARGV[3] (or remove it when ARGV[3] is empty) only if it is still ARGV[2].
_SWAP_CLAIM = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return 1
"""


class UserShard(PayoutCommands):
    kind = "users"

    def __init__(self, settings: Settings, shard: int = 0) -> None:
        self.users: dict[str, User] = {}
        self.passwords = Passwords.from_settings(settings)
        self.router = Router(settings)
        super().__init__(settings, shard)

    def load(self, client: Any) -> None:
        """Users load lazily; after a failed write, the cached ones are re-read so memory equals Redis."""
        ids = list(self.users)
        raws = client.hmget(keys.users(self.shard), ids) if ids else []
        self.users = {uid: User.from_dict(json.loads(raw)) for uid, raw in zip(ids, raws, strict=True) if raw}

    @property
    def _redis(self) -> Any:
        """The async client, untyped: redis-py's stubs type each command as sync-or-async at once."""
        return self.store.redis

    # -- reading ---------------------------------------------------------------------------------------
    async def _cached(self, user_id: str) -> User:
        """The user, loaded into memory on first use; NotFound when there is no such user here."""
        await self.fresh()
        if user_id not in self.users and shard_of(self.settings, self.kind, user_id) == self.shard:
            data = await self.store.hget_json(keys.users(self.shard), user_id)
            if data is not None:
                self.users.setdefault(user_id, User.from_dict(data))  # a command may have loaded it meanwhile
        user = self.users.get(user_id)
        if user is None:
            raise NotFound("user_not_found", "No such user", {"user_id": user_id})
        return user

    async def get(self, user_id: str) -> dict[str, Any]:
        return (await self._cached(user_id)).public()

    async def _change(self, user_id: str, mutate: Callable[[User, Changes], T], event: str, **data: Any) -> T:
        """Run `mutate` on the user as one command; when the user changed (its version moved), the user and an
        event are written in the batch's transaction."""
        await self._cached(user_id)

        def command(changes: Changes) -> T:
            user = self.users.get(user_id)
            if user is None:
                raise NotFound("user_not_found", "No such user", {"user_id": user_id})
            version = user.version
            result = mutate(user, changes)
            if user.version != version:
                self._persist(user, changes)
                changes.emit(event, user_id=user_id, **data)
            return result

        return await self.submit(command)

    def _persist(self, user: User, changes: Changes) -> None:
        changes.hset(keys.users(self.shard), user.id, user.to_dict())
        if user.seller is not None:
            changes.hset(keys.SELLERS, user.seller.id, user.seller.to_dict())
            if user.seller.status == "suspended":  # the catalog hides the listings of the sellers in this hash
                changes.hset(keys.SUSPENDED_SELLERS, user.seller.id, user.seller.reason or "")
            else:
                changes.hdel(keys.SUSPENDED_SELLERS, user.seller.id)

    # -- accounts --------------------------------------------------------------------------------------
    async def register(self, email: str, password: str, first_name: str, last_name: str,
                       phone: str | None = None) -> dict[str, Any]:
        return (await self._create(email, password, first_name, last_name, phone, "customer")).public()

    async def ensure_admin(self, email: str, password: str) -> dict[str, Any]:
        """Idempotent: an admin with this email exists afterwards. Anyone may have registered the email through
        the public API first, so an existing account is made admin only when `password` is its password;
        otherwise Conflict `admin_email_taken` (the platform refuses to start). An account that is already an
        admin is kept as it is, with its password (which may have been changed since the first start)."""
        email = normalize_email(email)
        owner_id = await self._redis.hget(keys.USER_EMAILS, email)
        if owner_id and await self._exists(owner_id):
            if shard_of(self.settings, self.kind, owner_id) != self.shard:
                return await self.router.owner(self.kind, owner_id).ensure_admin.remote(email, password)
            user = await self._cached(owner_id)
            if user.role != "admin" and not await self.passwords.verify_async(user.password_hash, password):
                raise Conflict("admin_email_taken", f"an account with the email {email} already exists and its "
                               "password is not BAZAAR_ADMIN_PASSWORD, so it is not made admin: choose another "
                               "admin email, or set the password of that account")
            await self._change(owner_id, lambda user, _: user.make_admin(now_iso()), "user.updated", role="admin")
            return (await self._cached(owner_id)).public()
        return (await self._create(email, password, "Admin", "Bazaar", None, "admin")).public()

    async def _create(self, email: str, password: str, first_name: str, last_name: str, phone: str | None,
                      role: Role) -> User:
        email = normalize_email(email)
        check_password(password, email)
        user = User.register(self._local_user_id(), email, "", first_name, last_name, phone, role,
                             self.settings.currency, now_iso())
        user.password_hash = await self.passwords.hash_async(password)  # Unavailable("busy") past the gate's queue
        await self._claim_email(email, user.id)

        def command(changes: Changes) -> User:
            self.users[user.id] = user
            self._persist(user, changes)
            changes.emit("user.registered", user_id=user.id, email=email, role=role)
            return user

        try:
            return await self.submit(command)
        except Exception:
            if user.id not in self.users:  # the write failed (the shard reloaded without it): free the email
                await self._swap_claim(email, user.id, "")
            raise

    def _local_user_id(self) -> str:
        return local_id(self.settings, self.kind, self.shard, "usr")

    async def _exists(self, user_id: str) -> bool:
        shard = shard_of(self.settings, self.kind, user_id)
        return bool(await self._redis.hexists(keys.users(shard), user_id))

    async def _claim_email(self, email: str, user_id: str) -> None:
        if await self._redis.hsetnx(keys.USER_EMAILS, email, user_id):
            return
        holder = await self._redis.hget(keys.USER_EMAILS, email)
        if (holder and self._is_orphan_age(holder) and not await self._exists(holder)
                and await self._swap_claim(email, holder, user_id)):
            return
        raise Conflict("email_taken", "An account with this email already exists")

    @staticmethod
    def _is_orphan_age(holder: str) -> bool:
        if not is_id(holder, "usr"):
            return True
        return epoch() - ULID.from_str(holder[4:]).timestamp > ORPHAN_GRACE_SECONDS

    async def _swap_claim(self, email: str, expected: str, new: str) -> bool:
        swapped = await self._redis.eval(_SWAP_CLAIM, 1, keys.USER_EMAILS, email, expected, new)
        return bool(swapped)

    async def rehash_password(self, user_id: str, password: str) -> None:
        """Re-hash with the current cost settings after a successful login with an older hash. Skipped when
        hashing is busy: the sign-in has succeeded, and a later one re-hashes."""
        user = await self._cached(user_id)
        if not self.passwords.needs_rehash(user.password_hash):
            return
        try:
            if not await self.passwords.verify_async(user.password_hash, password):
                return
            new_hash = await self.passwords.hash_async(password)
        except Unavailable:
            return

        def rehash(user: User, _: Changes) -> None:
            if self.passwords.needs_rehash(user.password_hash):  # not changed meanwhile by another rehash
                user.set_password_hash(new_hash, now_iso())

        await self._change(user_id, rehash, "user.password_rehashed")

    async def change_password(self, user_id: str, current_password: str, new_password: str) -> None:
        """The user's own change: Forbidden `invalid_credentials` unless `current_password` is the password."""
        user = await self._cached(user_id)
        check_password(new_password, user.email)
        if not await self.passwords.verify_async(user.password_hash, current_password):
            raise Forbidden("invalid_credentials", "The current password is not correct")
        await self._set_password(user_id, new_password, "change", replacing=user.password_hash)

    async def reset_password(self, user_id: str, new_password: str) -> None:
        """A forgotten password replaced; the caller has consumed a reset token for this user."""
        check_password(new_password, (await self._cached(user_id)).email)
        await self._set_password(user_id, new_password, "reset")

    async def _set_password(self, user_id: str, new_password: str, reason: str, replacing: str | None = None) -> None:
        """Hash (in a worker thread) and store the new password; with `replacing`, only if the hash checked is still
        the user's (another change may have landed while this one was verified and hashed)."""
        new_hash = await self.passwords.hash_async(new_password)

        def store(user: User, _: Changes) -> None:
            if replacing is not None and user.password_hash != replacing:
                raise Conflict("password_changed_meanwhile", "The password was just changed by another request")
            user.set_password_hash(new_hash, now_iso())

        await self._change(user_id, store, "user.password_changed", reason=reason)

    # -- profile and addresses -------------------------------------------------------------------------
    async def update_profile(self, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        await self._change(user_id, lambda user, _: user.update_profile(changes, now_iso()), "user.updated",
                           fields=sorted(changes))
        return (await self._cached(user_id)).public()

    async def add_address(self, user_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        address_id = new_id("adr")
        address = await self._change(user_id, lambda user, _: user.add_address(address_id, fields, now_iso()),
                                     "address.added", address_id=address_id)
        return asdict(address)

    async def update_address(self, user_id: str, address_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        address = await self._change(
            user_id, lambda user, _: user.update_address(address_id, fields, now_iso()),
            "address.updated", address_id=address_id)
        return asdict(address)

    async def delete_address(self, user_id: str, address_id: str) -> None:
        await self._change(user_id, lambda user, _: user.delete_address(address_id, now_iso()),
                           "address.deleted", address_id=address_id)

    # -- selling ---------------------------------------------------------------------------------------
    async def apply_seller(self, user_id: str, store_name: str, description: str | None = None,
                           details: dict[str, Any] | None = None) -> dict[str, Any]:
        """`details`: legal_name, address, payout (a tokenized PayoutAccount's dict), each optional."""
        seller_id, extra = new_id("sel"), details or {}
        application = await self._change(
            user_id, lambda user, _: user.apply_seller(seller_id, store_name, description, now_iso(), **extra),
            "seller.applied", seller_id=seller_id)
        return application.to_dict()

    async def approve_seller(self, user_id: str, seller_id: str, admin_id: str | None = None) -> dict[str, Any]:
        return await self._decide(user_id, seller_id, lambda seller, at: seller.approved(at), "seller.approved",
                                  admin_id, "seller.approve")

    async def reject_seller(self, user_id: str, seller_id: str, reason: str,
                            admin_id: str | None = None) -> dict[str, Any]:
        return await self._decide(user_id, seller_id, lambda seller, at: seller.rejected(reason, at),
                                  "seller.rejected", admin_id, "seller.reject", reason=reason.strip())

    async def suspend_seller(self, user_id: str, seller_id: str, reason: str,
                             admin_id: str | None = None) -> dict[str, Any]:
        return await self._decide(user_id, seller_id, lambda seller, at: seller.suspended(reason, at),
                                  "seller.suspended", admin_id, "seller.suspend", reason=reason.strip())

    async def reinstate_seller(self, user_id: str, seller_id: str, admin_id: str | None = None) -> dict[str, Any]:
        return await self._decide(user_id, seller_id, lambda seller, at: seller.reinstated(at), "seller.reinstated",
                                  admin_id, "seller.reinstate")

    async def _decide(self, user_id: str, seller_id: str,
                      move: Callable[[SellerApplication, str], SellerApplication | None], event: str,
                      admin_id: str | None, action: str, **data: Any) -> dict[str, Any]:
        """An admin's decision on a seller, with its event and its audit entry (one transaction) when it changed
        something; the seller after it."""
        at = now_iso()

        def decide(user: User, changes: Changes) -> bool:
            decided = user.decide_seller(seller_id, lambda s: move(s, at), at)
            if decided:
                recorded(changes, admin_id, action, "seller", seller_id, user_id=user_id, **data)
            return decided

        await self._change(user_id, decide, event, seller_id=seller_id, **data)
        seller = (await self._cached(user_id)).seller
        assert seller is not None
        return seller.to_dict()

    # -- the audit log and privacy ----------------------------------------------------------------------------
    async def record_admin_action(self, entry: AdminAction) -> dict[str, Any]:
        """An admin action done elsewhere, logged by the admin's shard (serve/admin_log.py)."""
        return await self.submit(lambda changes: record(changes, entry).to_dict())

    async def verify_password(self, user_id: str, password: str) -> None:
        """Forbidden `invalid_credentials` unless `password` is the user's (before an erasure)."""
        user = await self._cached(user_id)
        if user.erased_at is not None or not await self.passwords.verify_async(user.password_hash, password):
            raise Forbidden("invalid_credentials", "The password is not correct")

    async def erase(self, user_id: str) -> dict[str, Any]:
        """The account's personal data goes and its email is free again (docs/privacy.md); `user.erased` says so
        without any of it."""

        wishlisted = list(await self._redis.hkeys(keys.wishlist(user_id)))

        def erase(user: User, changes: Changes) -> None:
            if user.email:
                changes.hdel(keys.USER_EMAILS, user.email)  # this user's claim: a new account may take the email
            user.erase(now_iso())
            for product_id in wishlisted:  # the wishlist, and the user in its products' wishlister indexes
                changes.hdel(keys.wishlisted_by(product_id), user_id)
            for key in (keys.wishlist(user_id), keys.inbox(user_id), keys.inbox_feed(user_id),
                        keys.inbox_unread(user_id)):
                changes.delete(key)

        await self._change(user_id, erase, "user.erased")
        return (await self._cached(user_id)).public()

    # -- the wishlist (keys.wishlist, and the index of wishlisters per product that notifications read) ----------
    async def wishlist_add(self, user_id: str, product_id: str, variant_id: str | None) -> dict[str, Any]:
        """Add (or re-point to another variant) a product; Conflict past `WISHLIST_MAX` products."""
        await self._cached(user_id)
        known = await self._redis.hexists(keys.wishlist(user_id), product_id)
        if not known and await self._redis.hlen(keys.wishlist(user_id)) >= WISHLIST_MAX:
            raise Conflict("wishlist_full", f"A wishlist holds at most {WISHLIST_MAX} products")
        item = {"product_id": product_id, "variant_id": variant_id, "added_at": now_iso()}

        def command(changes: Changes) -> dict[str, Any]:
            changes.hset(keys.wishlist(user_id), product_id, item)
            changes.hset(keys.wishlisted_by(product_id), user_id, variant_id or "")
            changes.emit("wishlist.item_added", user_id=user_id, product_id=product_id, variant_id=variant_id)
            return item

        return await self.submit(command)

    async def wishlist_remove(self, user_id: str, product_id: str) -> None:
        if not await self._redis.hexists(keys.wishlist(user_id), product_id):
            raise NotFound("wishlist_item_not_found", "This product is not on the wishlist", {"product_id": product_id})

        def command(changes: Changes) -> None:
            changes.hdel(keys.wishlist(user_id), product_id)
            changes.hdel(keys.wishlisted_by(product_id), user_id)
            changes.emit("wishlist.item_removed", user_id=user_id, product_id=product_id)

        await self.submit(command)
