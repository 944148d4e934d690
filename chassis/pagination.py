"""Paginated lists: ``?page=&size=`` in, ``{"items", "total", "page", "size"}`` out."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

MAX_PAGE_SIZE = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int


class PageParams(BaseModel):
    page: int = 1
    size: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="页码，从 1 开始")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="每页条数")] = 20,
) -> PageParams:
    return PageParams(page=page, size=size)


Pagination = Annotated[PageParams, Depends(page_params)]


async def paginate(session: AsyncSession, query: Select[Any], params: PageParams) -> tuple[list[Any], int]:
    """Run ``query`` for one page and count the whole result; returns (rows as scalars, total)."""
    total = (await session.execute(select(func.count()).select_from(query.order_by(None).subquery()))).scalar_one()
    rows = (await session.execute(query.offset(params.offset).limit(params.size))).scalars().all()
    return list(rows), int(total)
