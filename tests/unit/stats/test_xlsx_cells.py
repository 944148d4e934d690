"""An XLSX export never fails on a name with control characters (found by fuzzing the API)."""

import io

from openpyxl import Workbook, load_workbook

from services.stats.summaries import _cell


def test_control_characters_are_dropped_from_xlsx_cells_and_numbers_kept():
    wb = Workbook()
    ws = wb.active
    ws.append([_cell("控制\x01字符\x00"), _cell(12.5)])
    buffer = io.BytesIO()
    wb.save(buffer)
    row = next(load_workbook(io.BytesIO(buffer.getvalue())).active.iter_rows(values_only=True))
    assert row == ("控制字符", 12.5)
    assert _cell(None) is None
