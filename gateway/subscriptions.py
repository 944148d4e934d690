"""Webhook subscriptions: registering, changing and removing them, and their deliveries (use cases).

A system client manages its own subscriptions, limited to the event types it was granted; an
administrator sees and manages all of them. Every change is audited (the secret never is).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from chassis.audit import record_audit
from chassis.auth import Principal
from chassis.errors import Conflict, FieldError, NotFound, Unprocessable
from gateway.catalog import check_types
from gateway.dispatcher import check_callback, redeliver, replay_into
from gateway.keys import SecretBox, aware, utcnow
from gateway.models import Account, Delivery, Subscription
from gateway.schemas import SubscriptionIn, SubscriptionPatch
from gateway.webhooks import CallbackPolicy, new_secret


def subscription_view(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "owner": subscription.owner,
        "description": subscription.description,
        "callback_url": subscription.callback_url,
        "event_types": list(subscription.event_types),
        "filters": dict(subscription.filters),
        "active": subscription.active,
        "previous_secret_expires_at": _still_valid(subscription),
        "created_at": aware(subscription.created_at),
        "updated_at": aware(subscription.updated_at),
    }


def _still_valid(subscription: Subscription) -> Any:
    expires = aware(subscription.previous_secret_expires_at)
    return expires if subscription.previous_secret and expires is not None and expires > utcnow() else None


async def _allowed_types(session: AsyncSession, caller: Principal) -> list[str] | None:
    if caller.is_admin:
        return None
    account = await session.get(Account, caller.subject)
    if account is None or not account.active or account.kind != "system":
        raise NotFound("客户端不存在或已停用", "Client not found or disabled")
    return list(account.event_types)


async def _check_callback(url: str, policy: CallbackPolicy) -> None:
    reason = await check_callback(url, policy)
    if reason is not None:
        raise Unprocessable(
            f"回调地址不被接受：{reason}", "Callback URL refused",
            errors=[FieldError("callback_url", reason, "callback URL refused by the allow-list", code="refused")],
        )


def _filters(body_filters: Any) -> dict[str, Any]:
    return {k: v for k, v in body_filters.model_dump().items() if v not in (None, {})}


async def create_subscription(
    session: AsyncSession, caller: Principal, body: SubscriptionIn, *, secrets: SecretBox, policy: CallbackPolicy,
    replay_limit: int,
) -> tuple[Subscription, str, int]:
    event_types = sorted(set(body.event_types))
    check_types(event_types, await _allowed_types(session, caller))
    await _check_callback(body.callback_url, policy)
    secret = new_secret()
    now = utcnow()
    subscription = Subscription(
        id="sub_" + uuid.uuid4().hex,
        owner=caller.subject,
        description=body.description,
        callback_url=body.callback_url,
        event_types=event_types,
        filters=_filters(body.filters),
        secret=secrets.seal(secret),
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    await session.flush()
    replayed = 0
    if body.replay_from is not None:
        replayed = await replay_into(session, subscription, body.replay_from, replay_limit)
    after = subscription_view(subscription)
    after["replay_from"] = body.replay_from
    await record_audit(session, caller, "subscription.create", entity_type="subscription", entity_id=subscription.id,
                       after=after)
    return subscription, secret, replayed


async def get_subscription(session: AsyncSession, caller: Principal, subscription_id: str) -> Subscription:
    subscription = await session.get(Subscription, subscription_id)
    if subscription is None or (not caller.is_admin and subscription.owner != caller.subject):
        raise NotFound("订阅不存在", "Subscription not found")
    return subscription


async def rotate_secret(
    session: AsyncSession, caller: Principal, subscription_id: str, *, secrets: SecretBox, overlap_hours: int
) -> tuple[Subscription, str]:
    """A new signing secret; the old one keeps signing alongside it for ``overlap_hours``.

    Deliveries carry one signature per valid secret, so the receiver can deploy the new secret at
    its own pace; with ``overlap_hours=0`` (a leaked secret) the old one stops at once.
    """
    subscription = await get_subscription(session, caller, subscription_id)
    secret = new_secret()
    now = utcnow()
    subscription.previous_secret = subscription.secret if overlap_hours > 0 else None
    subscription.previous_secret_expires_at = now + timedelta(hours=overlap_hours) if overlap_hours > 0 else None
    subscription.secret = secrets.seal(secret)
    subscription.updated_at = now
    session.add(subscription)
    await session.flush()
    await record_audit(
        session, caller, "subscription.rotate_secret", entity_type="subscription", entity_id=subscription.id,
        after={"overlap_hours": overlap_hours, "previous_secret_expires_at": subscription.previous_secret_expires_at},
    )
    return subscription, secret


async def list_subscriptions(
    session: AsyncSession, caller: Principal, *, offset: int, limit: int
) -> tuple[list[Subscription], int]:
    query = select(Subscription)
    if not caller.is_admin:
        query = query.where(col(Subscription.owner) == caller.subject)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await session.execute(query.order_by(col(Subscription.created_at)).offset(offset).limit(limit))
    ).scalars().all()
    return list(rows), int(total)


async def update_subscription(
    session: AsyncSession, caller: Principal, subscription_id: str, patch: SubscriptionPatch, *, policy: CallbackPolicy
) -> Subscription:
    subscription = await get_subscription(session, caller, subscription_id)
    before = subscription_view(subscription)
    if patch.event_types is not None:
        event_types = sorted(set(patch.event_types))
        check_types(event_types, await _allowed_types(session, caller) if subscription.owner == caller.subject else None)
        subscription.event_types = event_types
    if patch.callback_url is not None:
        await _check_callback(patch.callback_url, policy)
        subscription.callback_url = patch.callback_url
    if patch.filters is not None:
        subscription.filters = _filters(patch.filters)
    if "description" in patch.model_fields_set:
        subscription.description = patch.description
    if patch.active is not None:
        subscription.active = patch.active
    subscription.updated_at = utcnow()
    session.add(subscription)
    await session.flush()
    await record_audit(session, caller, "subscription.update", entity_type="subscription", entity_id=subscription.id,
                       before=before, after=subscription_view(subscription))
    return subscription


async def delete_subscription(session: AsyncSession, caller: Principal, subscription_id: str) -> None:
    subscription = await get_subscription(session, caller, subscription_id)
    before = subscription_view(subscription)
    await session.execute(delete(Delivery).where(col(Delivery.subscription_id) == subscription.id))
    await session.delete(subscription)
    await record_audit(session, caller, "subscription.delete", entity_type="subscription", entity_id=subscription_id,
                       before=before)


async def list_deliveries(
    session: AsyncSession, caller: Principal, subscription_id: str, *, status: str | None, offset: int, limit: int
) -> tuple[list[Delivery], int]:
    await get_subscription(session, caller, subscription_id)
    query = select(Delivery).where(col(Delivery.subscription_id) == subscription_id)
    if status:
        query = query.where(col(Delivery.status) == status)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await session.execute(query.order_by(col(Delivery.created_at).desc(), col(Delivery.id)).offset(offset).limit(limit))
    ).scalars().all()
    return list(rows), int(total)


async def redeliver_one(session: AsyncSession, caller: Principal, subscription_id: str, delivery_id: str) -> Delivery:
    subscription = await get_subscription(session, caller, subscription_id)
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound("投递记录不存在", "Delivery not found")
    if delivery.status in ("pending", "retrying"):
        raise Conflict(
            f"该投递仍在排队（状态 {delivery.status}），无需重投",
            f"The delivery is still queued (status {delivery.status})",
            state=delivery.status,
        )
    before = {"status": delivery.status, "attempts": delivery.attempts}
    await redeliver(session, delivery)
    await record_audit(session, caller, "subscription.redeliver", entity_type="delivery", entity_id=delivery.id,
                       before=before, after={"status": "pending", "subscription_id": subscription.id})
    return delivery

