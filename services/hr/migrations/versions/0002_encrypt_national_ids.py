"""encrypt national ids

Widens ``staff.national_id`` from 18 characters to 255: it now holds ``v1:…`` ciphertext (65
characters for an 18-digit number; room for a later format). ``national_id_digest`` keeps its 64
characters but changes meaning, from an unsalted SHA-256 to a keyed blind index (HMAC-SHA256).

Schema only. Existing rows are encrypted and re-indexed by the service's start-up step
(``services/hr/personal_data.py``, ``upgrade_stored``), not here: migrations run as their own job
(``zonectl migrate``, Kubernetes and Compose migration jobs) that holds no ``HR_PERSONAL_DATA_KEY``.
Until an upgraded replica has started once, old rows stay readable (plain text is recognised by
its missing ``v1:`` prefix).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:03:52.712603
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.alter_column('national_id',
               existing_type=sa.VARCHAR(length=18),
               type_=sqlmodel.sql.sqltypes.AutoString(length=255),
               existing_nullable=False)


def downgrade() -> None:
    # Ciphertext does not fit 18 characters, and turning it back into plain text needs the key,
    # which migrations do not hold: going back is restoring the backup taken before the upgrade.
    raise NotImplementedError("0002 cannot be downgraded: restore the HR database from before the upgrade")
