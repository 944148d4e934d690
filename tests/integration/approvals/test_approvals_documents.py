"""Uploading materials: accepted by content with their SHA-256 kept; oversized or disguised files are a
clear 4xx that writes nothing (no row, no file)."""

from __future__ import annotations

import hashlib
import io
import zipfile

from sqlalchemy import func, select

from services.approvals.models import Document
from tests.integration.approvals.conftest import CHIP, EIA_FORM, PACK, start_approvals

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 64


def ofd() -> bytes:
    """A minimal OFD (a ZIP package), the same bytes on every call: entries named by ``ZipInfo`` with a
    fixed time, since ``writestr(name, …)`` stamps the current time and a retried upload that crossed a
    two-second boundary was a different file (and rightly refused under the same Idempotency-Key)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in (("OFD.xml", "<ofd:OFD/>"), ("Doc_0/Document.xml", "<ofd:Document/>")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


async def upload(approvals, app_id, content, filename, material_code=None, headers=None):  # type: ignore[no-untyped-def]
    data = {"material_code": material_code} if material_code else {}
    return await approvals.client.post(
        f"/applications/{app_id}/documents", files={"file": (filename, content, "application/pdf")}, data=data,
        headers=headers or approvals.enterprise(CHIP),
    )


def stored_files(approvals) -> list[str]:  # type: ignore[no-untyped-def]
    root = approvals.svc.settings.files_dir
    import pathlib

    return sorted(str(p.relative_to(root)) for p in pathlib.Path(root).rglob("*") if p.is_file())


async def documents(approvals) -> int:  # type: ignore[no-untyped-def]
    async with approvals.svc.ctx.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(Document))).scalar_one())


async def test_an_upload_is_kept_with_its_sha256_and_marks_its_material_provided(approvals):
    app = await approvals.filed([EIA_FORM], materials=[{"code": "application_form"}])
    assert "eia_report_form" in (await approvals.get(app["id"]))["missing_mandatory_materials"]
    r = await upload(approvals, app["id"], PDF, "环境影响报告表.pdf", "eia_report_form")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert doc["media_type"] == "application/pdf" and doc["size_bytes"] == len(PDF)
    assert doc["filename"] == "环境影响报告表.pdf"
    assert stored_files(approvals) == [f"{doc['sha256'][:2]}/{doc['sha256']}.pdf"]
    detail = await approvals.get(app["id"])
    assert detail["missing_mandatory_materials"] == []
    assert detail["documents"][0]["id"] == doc["id"]
    assert detail["timeline"][-1]["action"] == "upload"
    retried = [
        await upload(approvals, app["id"], ofd(), "专家评审意见.ofd", "eia_expert_opinion",
                     headers={**approvals.enterprise(CHIP), "Idempotency-Key": "upload-7"})
        for _ in range(2)
    ]
    assert retried[1].headers.get("Idempotent-Replayed") == "true"
    assert retried[0].json() == retried[1].json() and await documents(approvals) == 2
    ofd_upload = retried[0]
    assert ofd_upload.status_code == 201 and ofd_upload.json()["media_type"] == "application/ofd"
    # The window can download it; another enterprise cannot even see it exists.
    got = await approvals.client.get(f"/applications/{app['id']}/documents/{doc['id']}", headers=approvals.window)
    assert got.status_code == 200 and got.content == PDF
    other = await approvals.client.get(f"/applications/{app['id']}/documents/{doc['id']}", headers=approvals.enterprise(PACK))
    assert other.status_code == 404


async def test_a_disguised_executable_is_415_and_writes_nothing(approvals):
    app = await approvals.filed([EIA_FORM])
    r = await upload(approvals, app["id"], EXE, "申请表.pdf", "application_form")
    assert r.status_code == 415
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["errors"][0]["field"] == "file" and "PDF、OFD、JPG、PNG" in body["detail"]
    assert body["detected"] == "application/x-msdownload"
    assert await documents(approvals) == 0 and stored_files(approvals) == []
    zip_not_ofd = io.BytesIO()
    with zipfile.ZipFile(zip_not_ofd, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert (await upload(approvals, app["id"], zip_not_ofd.getvalue(), "x.ofd")).status_code == 415
    assert (await upload(approvals, app["id"], b"", "empty.pdf")).status_code == 415
    assert await documents(approvals) == 0 and stored_files(approvals) == []


async def test_an_oversized_file_is_413_and_writes_nothing(service_factory, issuer, tmp_path):
    approvals = await start_approvals(service_factory, issuer, tmp_path, upload_max_bytes=1024)
    app = await approvals.filed([EIA_FORM])
    big = PDF + b"0" * 2048
    r = await upload(approvals, app["id"], big, "big.pdf", "eia_report_form")
    assert r.status_code == 413
    assert r.json()["errors"][0]["field"] == "file"
    assert await documents(approvals) == 0 and stored_files(approvals) == []
    assert (await upload(approvals, app["id"], PDF, "small.pdf")).status_code == 201


async def test_uploads_are_for_the_applicant_or_the_window_while_the_application_is_open_for_materials(approvals):
    app = await approvals.filed([EIA_FORM])
    assert (await upload(approvals, app["id"], PDF, "a.pdf", headers=approvals.enterprise(PACK))).status_code == 404
    assert (await upload(approvals, app["id"], PDF, "a.pdf", headers=approvals.window)).status_code == 201
    unknown_material = await upload(approvals, app["id"], PDF, "a.pdf", "fire_design_docs")
    assert unknown_material.status_code == 422 and unknown_material.json()["errors"][0]["field"] == "material_code"
    await approvals.done(app["id"], "accept")
    closed = await upload(approvals, app["id"], PDF, "late.pdf")
    assert closed.status_code == 409 and closed.json()["state"] == "accepted"
    missing_file = await approvals.client.post(
        f"/applications/{app['id']}/documents", data={"material_code": "eia_report_form"}, headers=approvals.enterprise(CHIP)
    )
    assert missing_file.status_code == 422 and missing_file.json()["errors"][0]["field"] == "file"
