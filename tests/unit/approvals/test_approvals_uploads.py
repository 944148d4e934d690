"""Uploaded materials are recognised by content (filetype + magic bytes), never by name, and stored
atomically under their SHA-256."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib

import pytest

from services.approvals.uploads import (
    JPG,
    OFD,
    PDF,
    PNG,
    UploadRejected,
    safe_filename,
    sha256_hex,
    sniff,
    storage_key,
    store_atomically,
)

PDF_BYTES = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 32 + b"\xff\xd9"
EXE_BYTES = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 64


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")


def zip_bytes(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<ofd:OFD xmlns:ofd=\"http://www.ofdspec.org/2016\"/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "filename", "kind"),
    [
        (PDF_BYTES, "环评报告表.pdf", PDF),
        (JPG_BYTES, "营业执照.JPG", JPG),
        (JPG_BYTES, "photo.jpeg", JPG),
        (png_bytes(), "平面图.png", PNG),
        (zip_bytes("OFD.xml", "Doc_0/Document.xml"), "批复.ofd", OFD),
        (PDF_BYTES, None, PDF),
        (PDF_BYTES, "no-extension", PDF),
    ],
)
def test_allowed_types_are_recognised_by_their_content(content, filename, kind):
    assert sniff(content, filename) is kind


def test_an_executable_renamed_pdf_is_refused_naming_what_it_really_is():
    with pytest.raises(UploadRejected) as info:
        sniff(EXE_BYTES, "申请表.pdf")
    assert info.value.detected == "application/x-msdownload"
    assert "只接受 PDF、OFD、JPG、PNG" in info.value.zh


@pytest.mark.parametrize(
    ("content", "filename", "hint"),
    [
        (b"", "empty.pdf", "文件为空"),
        (b"just some text pretending", "note.pdf", "不是允许的类型"),
        (zip_bytes("word/document.xml", "[Content_Types].xml"), "report.ofd", ""),
        (zip_bytes("readme.txt"), "archive.ofd", "OFD.xml"),
        (png_bytes(), "scan.pdf", "扩展名"),
        (b"GIF89a" + b"\x00" * 40, "animation.png", "不是允许的类型"),
    ],
)
def test_anything_else_is_refused(content, filename, hint):
    with pytest.raises(UploadRejected) as info:
        sniff(content, filename)
    assert hint in info.value.zh


def test_files_are_stored_atomically_by_content_hash(tmp_path):
    digest = sha256_hex(PDF_BYTES)
    assert digest == hashlib.sha256(PDF_BYTES).hexdigest()
    key = storage_key(digest, PDF)
    assert key == f"{digest[:2]}/{digest}.pdf"
    path = store_atomically(tmp_path, key, PDF_BYTES)
    assert path.read_bytes() == PDF_BYTES
    assert store_atomically(tmp_path, key, PDF_BYTES) == path  # the same bytes again: nothing to do
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_display_names_lose_any_directory_part():
    assert safe_filename("../../etc/passwd.pdf", PDF) == "passwd.pdf"
    assert safe_filename("C:\\Users\\王\\申请表.pdf", PDF) == "申请表.pdf"
    assert safe_filename(None, PNG) == "upload.png"
