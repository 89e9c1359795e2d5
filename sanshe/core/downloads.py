"""File download responses with Chinese file names (RFC 6266 filename*)."""

from __future__ import annotations

from urllib.parse import quote

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def private_file_response(file: FieldFile, *, content_type: str, filename: str) -> FileResponse:
    """A stored personal document, shown inline and never kept by caches."""
    response = FileResponse(file.open("rb"), content_type=content_type, as_attachment=False, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response
