"""Uploaded materials: what a file really is (by its content, never its name), and keeping it safely.

Accepted: PDF, OFD (GB/T 33190, the national layout format: a ZIP container whose root holds
``OFD.xml``), JPEG and PNG. The type is recognised by the ``filetype`` package and the format's magic
bytes, which must agree; a file whose name claims another type than its content (an ``.exe`` renamed
``.pdf``) is refused. Files are stored content-addressed (by SHA-256) under the configured directory,
written to a temporary file in the same directory and renamed into place, so a reader never sees half
a file and a rolled-back request leaves at most an unreferenced, complete file behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePath

import filetype


@dataclass(frozen=True)
class FileKind:
    name: str  # pdf | ofd | jpg | png
    media_type: str
    extensions: tuple[str, ...]


PDF = FileKind("pdf", "application/pdf", (".pdf",))
OFD = FileKind("ofd", "application/ofd", (".ofd",))
JPG = FileKind("jpg", "image/jpeg", (".jpg", ".jpeg"))
PNG = FileKind("png", "image/png", (".png",))
ALLOWED = (PDF, OFD, JPG, PNG)

_MAGIC = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "ofd": (b"PK\x03\x04",),
}
_FILETYPE_MIME = {"application/pdf": PDF, "image/jpeg": JPG, "image/png": PNG, "application/zip": OFD}


class UploadRejected(ValueError):
    def __init__(self, zh: str, en: str, detected: str | None = None) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.detected = detected


def _is_ofd(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return False
    return any(name.lstrip("/").lower() == "ofd.xml" for name in names)


def sniff(content: bytes, filename: str | None) -> FileKind:
    """The kind of an upload judged by its content; raises :class:`UploadRejected` otherwise."""
    if not content:
        raise UploadRejected("文件为空", "the file is empty")
    guess = filetype.guess(content[:8192])
    detected = guess.mime if guess is not None else None
    kind = _FILETYPE_MIME.get(detected or "")
    if kind is None or not content.startswith(_MAGIC[kind.name]):
        label = f"（检测为 {detected}）" if detected else ""
        raise UploadRejected(
            f"文件内容不是允许的类型{label}，只接受 PDF、OFD、JPG、PNG",
            f"content is not an allowed type ({detected or 'unknown'}); PDF, OFD, JPG and PNG only",
            detected,
        )
    if kind is OFD and not _is_ofd(content):
        raise UploadRejected(
            "ZIP 文件不是 OFD 版式文件（缺少 OFD.xml），只接受 PDF、OFD、JPG、PNG",
            "a ZIP archive that is not an OFD document (no OFD.xml entry)",
            detected,
        )
    suffix = PurePath(filename or "").suffix.lower()
    if suffix and suffix not in kind.extensions:
        raise UploadRejected(
            f"文件扩展名 {suffix} 与文件内容（{kind.name.upper()}）不符",
            f"the file name says {suffix} but the content is {kind.name.upper()}",
            kind.media_type,
        )
    return kind


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def safe_filename(filename: str | None, kind: FileKind) -> str:
    """The file's base name without any directory part, kept for display only."""
    name = PurePath((filename or "").replace("\\", "/")).name.strip() or f"upload{kind.extensions[0]}"
    return "".join(ch for ch in name if ch.isprintable())[:200] or f"upload{kind.extensions[0]}"


def storage_key(sha256: str, kind: FileKind) -> str:
    return f"{sha256[:2]}/{sha256}{kind.extensions[0]}"


def store_atomically(root: Path, key: str, content: bytes) -> Path:
    """Write ``content`` at ``root/key`` via a temporary file and an atomic rename (blocking: run in a thread)."""
    target = root / key
    if target.exists() and target.stat().st_size == len(content):
        return target  # content-addressed: the same bytes are already there
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
