"""Use cases for the reference data of attraction: industry chains and their nodes (city-wide), each
zone's status on a node, the zones' target company lists and admission catalogs.

Each function takes the session and the caller, records audit entries on the same session and
never commits (the request's session does).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from chassis.audit import record_audit
from chassis.auth import Principal, ensure_zone, scoped_zone
from chassis.errors import Conflict, FieldError, NotFound, Unprocessable
from chassis.pagination import Page, PageParams, paginate
from services.investment.access import ensure_city_level_writer, wan, write_zone
from services.investment.domain import (
    NODE_STATUS_LABELS,
    POSITION_LABELS,
    NodePosition,
    NodeStatus,
    Thresholds,
    derive_chain_role,
)
from services.investment.models import CatalogEntry, Chain, ChainNode, NodeZoneStatus, TargetCompany, utcnow
from services.investment.schemas import (
    THRESHOLD_FIELDS,
    CatalogEntryIn,
    CatalogEntryOut,
    CatalogEntryPatch,
    ChainIn,
    ChainOut,
    NodeIn,
    NodeOut,
    NodeStatusIn,
    NodeStatusOut,
    TargetIn,
    TargetOut,
)

TARGET_KIND_LABELS = {"key": "重点企业", "supporting": "配套企业"}


def new_id() -> str:
    return str(uuid.uuid4())


# --- chains -----------------------------------------------------------------------------------------


def _status_out(row: NodeZoneStatus) -> NodeStatusOut:
    status = NodeStatus(row.status)
    return NodeStatusOut(
        zone_id=row.zone_id,
        status=status,
        status_label=NODE_STATUS_LABELS[status],
        derived_chain_role=derive_chain_role(status),
        note=row.note,
        updated_at=row.updated_at,
    )


def _node_out(node: ChainNode, statuses: list[NodeZoneStatus]) -> NodeOut:
    position = NodePosition(node.position)
    return NodeOut(
        id=node.id,
        chain_id=node.chain_id,
        code=node.code,
        name=node.name,
        position=position,
        position_label=POSITION_LABELS[position],
        description=node.description,
        sort_order=node.sort_order,
        statuses=[_status_out(s) for s in sorted(statuses, key=lambda s: s.zone_id)],
    )


async def _chains_out(session: AsyncSession, chains: list[Chain], zone: str | None) -> list[ChainOut]:
    if not chains:
        return []
    chain_ids = [c.id for c in chains]
    nodes = (
        (await session.execute(
            select(ChainNode).where(col(ChainNode.chain_id).in_(chain_ids)).order_by(col(ChainNode.sort_order), col(ChainNode.code))
        ))
        .scalars()
        .all()
    )
    status_query = select(NodeZoneStatus).where(col(NodeZoneStatus.node_id).in_([n.id for n in nodes]))
    if zone is not None:
        status_query = status_query.where(col(NodeZoneStatus.zone_id) == zone)
    statuses: dict[str, list[NodeZoneStatus]] = defaultdict(list)
    for row in (await session.execute(status_query)).scalars():
        statuses[row.node_id].append(row)
    by_chain: dict[str, list[NodeOut]] = defaultdict(list)
    for node in nodes:
        by_chain[node.chain_id].append(_node_out(node, statuses[node.id]))
    return [
        ChainOut(
            id=c.id, code=c.code, name=c.name, description=c.description, created_at=c.created_at, nodes=by_chain[c.id]
        )
        for c in chains
    ]


async def list_chains(session: AsyncSession, caller: Principal, zone_id: str | None) -> list[ChainOut]:
    """Every chain with its nodes; statuses of the caller's zone (city level: one zone or all)."""
    zone = scoped_zone(caller, zone_id)
    chains = list((await session.execute(select(Chain).order_by(col(Chain.code)))).scalars())
    return await _chains_out(session, chains, zone)


async def get_chain(session: AsyncSession, caller: Principal, chain_id: str, zone_id: str | None) -> ChainOut:
    zone = scoped_zone(caller, zone_id)
    chain = await session.get(Chain, chain_id)
    if chain is None:
        raise NotFound("产业链不存在", "Chain not found")
    return (await _chains_out(session, [chain], zone))[0]


def _node_row(chain_id: str, body: NodeIn) -> ChainNode:
    return ChainNode(
        id=new_id(),
        chain_id=chain_id,
        code=body.code,
        name=body.name,
        position=body.position.value,
        description=body.description,
        sort_order=body.sort_order,
    )


async def create_chain(session: AsyncSession, caller: Principal, body: ChainIn) -> ChainOut:
    ensure_city_level_writer(caller)
    existing = (await session.execute(select(Chain).where(col(Chain.code) == body.code))).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            f"产业链代码 {body.code} 已存在",
            f"Chain code {body.code} already exists",
            errors=[FieldError("code", "产业链代码已存在", "already exists", code="duplicate")],
        )
    chain = Chain(
        id=new_id(), code=body.code, name=body.name, description=body.description,
        created_at=utcnow(), created_by=caller.subject,
    )
    session.add(chain)
    await session.flush()
    nodes = [_node_row(chain.id, n) for n in body.nodes]
    session.add_all(nodes)
    await session.flush()
    out = (await _chains_out(session, [chain], None))[0]
    await record_audit(
        session, caller, "chain.create", entity_type="chain", entity_id=chain.id, after=out.model_dump(mode="json")
    )
    return out


async def add_node(session: AsyncSession, caller: Principal, chain_id: str, body: NodeIn) -> NodeOut:
    ensure_city_level_writer(caller)
    chain = await session.get(Chain, chain_id)
    if chain is None:
        raise NotFound("产业链不存在", "Chain not found")
    clash = (
        await session.execute(select(ChainNode).where(col(ChainNode.chain_id) == chain_id, col(ChainNode.code) == body.code))
    ).scalar_one_or_none()
    if clash is not None:
        raise Conflict(
            f"环节代码 {body.code} 已存在",
            f"Node code {body.code} already exists in this chain",
            errors=[FieldError("code", "环节代码已存在", "already exists", code="duplicate")],
        )
    node = _node_row(chain_id, body)
    session.add(node)
    await session.flush()
    out = _node_out(node, [])
    await record_audit(
        session, caller, "chain.node.create", entity_type="chain_node", entity_id=node.id, after=out.model_dump(mode="json")
    )
    return out


async def _node(session: AsyncSession, chain_id: str, node_id: str) -> ChainNode:
    node = await session.get(ChainNode, node_id)
    if node is None or node.chain_id != chain_id:
        raise NotFound("产业链环节不存在", "Chain node not found")
    return node


async def set_node_status(
    session: AsyncSession, caller: Principal, chain_id: str, node_id: str, body: NodeStatusIn
) -> NodeOut:
    """A zone marks a node present, weak or missing (its chain panorama)."""
    zone = write_zone(caller, body.zone_id)
    node = await _node(session, chain_id, node_id)
    row = (
        await session.execute(
            select(NodeZoneStatus).where(col(NodeZoneStatus.node_id) == node_id, col(NodeZoneStatus.zone_id) == zone)
        )
    ).scalar_one_or_none()
    before = None
    if row is None:
        row = NodeZoneStatus(
            id=new_id(), node_id=node_id, zone_id=zone, status=body.status.value, note=body.note,
            updated_at=utcnow(), updated_by=caller.subject,
        )
    else:
        before = {"status": row.status, "note": row.note}
        row.status, row.note = body.status.value, body.note
        row.updated_at, row.updated_by = utcnow(), caller.subject
    session.add(row)
    await session.flush()
    await record_audit(
        session, caller, "chain.node.status", entity_type="chain_node", entity_id=node_id, zone_id=zone,
        before=before, after={"status": row.status, "note": row.note},
    )
    return _node_out(node, [row])


# --- target companies ----------------------------------------------------------------------------


def _target_out(row: TargetCompany, node: ChainNode, chain: Chain) -> TargetOut:
    return TargetOut(
        id=row.id,
        zone_id=row.zone_id,
        chain_code=chain.code,
        node_id=node.id,
        node_name=node.name,
        company_name=row.company_name,
        kind=row.kind,  # type: ignore[arg-type]
        kind_label=TARGET_KIND_LABELS[row.kind],
        uscc=row.uscc,
        headquarters=row.headquarters,
        note=row.note,
        created_at=row.created_at,
    )


async def create_target(session: AsyncSession, caller: Principal, body: TargetIn) -> TargetOut:
    zone = write_zone(caller, body.zone_id)
    node = await session.get(ChainNode, body.node_id)
    if node is None:
        raise Unprocessable(
            "产业链环节不存在", "Unknown chain node",
            errors=[FieldError("node_id", "产业链环节不存在", "unknown chain node", code="unknown")],
        )
    chain = await session.get(Chain, node.chain_id)
    assert chain is not None
    clash = (
        await session.execute(
            select(TargetCompany).where(
                col(TargetCompany.zone_id) == zone,
                col(TargetCompany.node_id) == node.id,
                col(TargetCompany.company_name) == body.company_name,
            )
        )
    ).scalar_one_or_none()
    if clash is not None:
        raise Conflict(
            "该企业已在本环节的目标名录中", "This company is already a target for the node",
            errors=[FieldError("company_name", "已在名录中", "already listed", code="duplicate")],
        )
    row = TargetCompany(
        id=new_id(), zone_id=zone, node_id=node.id, company_name=body.company_name, kind=body.kind,
        uscc=body.uscc, headquarters=body.headquarters, note=body.note, created_at=utcnow(), created_by=caller.subject,
    )
    session.add(row)
    await session.flush()
    out = _target_out(row, node, chain)
    await record_audit(
        session, caller, "target.create", entity_type="target_company", entity_id=row.id, zone_id=zone,
        after=out.model_dump(mode="json"),
    )
    return out


async def list_targets(
    session: AsyncSession,
    caller: Principal,
    page: PageParams,
    *,
    zone_id: str | None,
    chain_code: str | None,
    node_id: str | None,
    kind: str | None,
) -> Page[TargetOut]:
    zone = scoped_zone(caller, zone_id)
    query = (
        select(TargetCompany, ChainNode, Chain)
        .join(ChainNode, col(ChainNode.id) == col(TargetCompany.node_id))
        .join(Chain, col(Chain.id) == col(ChainNode.chain_id))
        .order_by(col(Chain.code), col(ChainNode.sort_order), col(TargetCompany.company_name))
    )
    if zone is not None:
        query = query.where(col(TargetCompany.zone_id) == zone)
    if chain_code:
        query = query.where(col(Chain.code) == chain_code)
    if node_id:
        query = query.where(col(TargetCompany.node_id) == node_id)
    if kind:
        query = query.where(col(TargetCompany.kind) == kind)
    ids = query.with_only_columns(col(TargetCompany.id)).order_by(None).subquery()
    total = int((await session.execute(select(func.count()).select_from(ids))).scalar_one())
    rows = (await session.execute(query.offset(page.offset).limit(page.size))).all()
    return Page[TargetOut](
        items=[_target_out(t, n, c) for t, n, c in rows], total=total, page=page.page, size=page.size
    )


# --- admission catalog ----------------------------------------------------------------------------


def catalog_out(row: CatalogEntry) -> CatalogEntryOut:
    return CatalogEntryOut(
        id=row.id,
        zone_id=row.zone_id,
        sector_code=row.sector_code,
        sector_name=row.sector_name,
        chain_code=row.chain_code,
        min_total_investment_wan=wan(row.min_total_investment_wan),
        min_investment_intensity_wan_per_mu=wan(row.min_investment_intensity_wan_per_mu),
        min_output_per_mu_wan=wan(row.min_output_per_mu_wan),
        min_tax_per_mu_wan=wan(row.min_tax_per_mu_wan),
        max_energy_per_output_tce_per_wan=wan(row.max_energy_per_output_tce_per_wan),
        note=row.note,
        updated_at=row.updated_at,
    )


def thresholds_of(row: CatalogEntry) -> Thresholds:
    return Thresholds(**{f: getattr(row, f) for f in THRESHOLD_FIELDS})


async def _ensure_chain_code(session: AsyncSession, chain_code: str | None) -> None:
    if chain_code is None:
        return
    found = (await session.execute(select(col(Chain.id)).where(col(Chain.code) == chain_code))).first()
    if found is None:
        raise Unprocessable(
            f"产业链 {chain_code} 不存在", f"Unknown chain {chain_code}",
            errors=[FieldError("chain_code", "产业链不存在", "unknown chain", code="unknown")],
        )


async def create_catalog_entry(session: AsyncSession, caller: Principal, body: CatalogEntryIn) -> CatalogEntryOut:
    zone = write_zone(caller, body.zone_id)
    await _ensure_chain_code(session, body.chain_code)
    clash = (
        await session.execute(
            select(CatalogEntry).where(col(CatalogEntry.zone_id) == zone, col(CatalogEntry.sector_code) == body.sector_code)
        )
    ).scalar_one_or_none()
    if clash is not None:
        raise Conflict(
            f"本功能区准入目录已有行业 {body.sector_code}",
            f"The zone's catalog already lists sector {body.sector_code}",
            errors=[FieldError("sector_code", "该行业已在目录中，请修改原条目", "already listed; update it", code="duplicate")],
            existing_id=clash.id,
        )
    now = utcnow()
    thresholds: dict[str, Decimal | None] = {f: getattr(body, f) for f in THRESHOLD_FIELDS}
    row = CatalogEntry(
        id=new_id(), zone_id=zone, sector_code=body.sector_code, sector_name=body.sector_name,
        chain_code=body.chain_code, note=body.note, created_at=now, updated_at=now, updated_by=caller.subject,
        **thresholds,
    )
    session.add(row)
    await session.flush()
    out = catalog_out(row)
    await record_audit(
        session, caller, "catalog.create", entity_type="catalog_entry", entity_id=row.id, zone_id=zone,
        after=out.model_dump(mode="json"),
    )
    return out


async def update_catalog_entry(
    session: AsyncSession, caller: Principal, entry_id: str, body: CatalogEntryPatch
) -> CatalogEntryOut:
    row = await session.get(CatalogEntry, entry_id)
    if row is None:
        raise NotFound("准入目录条目不存在", "Catalog entry not found")
    ensure_zone(caller, row.zone_id)
    if "sector_name" in body.model_fields_set and body.sector_name is None:
        raise Unprocessable(
            "行业名称不能为空", "sector_name cannot be cleared",
            errors=[FieldError("sector_name", "不能为空", "cannot be null", code="missing")],
        )
    if "chain_code" in body.model_fields_set:
        await _ensure_chain_code(session, body.chain_code)
    before = catalog_out(row)
    changes: dict[str, Any] = {f: getattr(body, f) for f in body.model_fields_set}
    after_thresholds = {f: changes.get(f, getattr(row, f)) for f in THRESHOLD_FIELDS}
    if all(v is None for v in after_thresholds.values()):
        raise Unprocessable(
            "至少保留一项准入门槛", "At least one threshold must remain",
            errors=[FieldError(f, "至少保留一项准入门槛", "at least one threshold must remain") for f in changes
                    if f in THRESHOLD_FIELDS],
        )
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by = utcnow(), caller.subject
    session.add(row)
    await session.flush()
    out = catalog_out(row)
    await record_audit(
        session, caller, "catalog.update", entity_type="catalog_entry", entity_id=row.id, zone_id=row.zone_id,
        before=before.model_dump(mode="json"), after=out.model_dump(mode="json"),
    )
    return out


async def list_catalog(
    session: AsyncSession,
    caller: Principal,
    page: PageParams,
    *,
    zone_id: str | None,
    chain_code: str | None,
    sector_code: str | None,
) -> Page[CatalogEntryOut]:
    zone = scoped_zone(caller, zone_id)
    query = select(CatalogEntry).order_by(col(CatalogEntry.zone_id), col(CatalogEntry.sector_code))
    if zone is not None:
        query = query.where(col(CatalogEntry.zone_id) == zone)
    if chain_code:
        query = query.where(col(CatalogEntry.chain_code) == chain_code)
    if sector_code:
        query = query.where(col(CatalogEntry.sector_code) == sector_code)
    rows, total = await paginate(session, query, page)
    return Page[CatalogEntryOut](items=[catalog_out(r) for r in rows], total=total, page=page.page, size=page.size)


async def get_catalog_entry(session: AsyncSession, caller: Principal, entry_id: str) -> CatalogEntryOut:
    row = await session.get(CatalogEntry, entry_id)
    if row is None:
        raise NotFound("准入目录条目不存在", "Catalog entry not found")
    ensure_zone(caller, row.zone_id)
    return catalog_out(row)
