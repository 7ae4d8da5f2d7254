"""Files sent back: the API and the pages answer with an attached file the same way."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi.responses import Response

from customslab.services.attachments import AttachmentContent, PreviewKind

#: A downloaded file is nobody's page: if a browser ever renders it, it runs nothing and reaches nothing.
SANDBOXED = "default-src 'none'; sandbox"
_UNSAFE_IN_QUOTES = re.compile(r"[^A-Za-z0-9 ._()+-]")


def content_disposition(kind: str, filename: str) -> str:
    """`attachment` or `inline` with the file's name: an ASCII fallback, and the exact name (RFC 6266)."""
    fallback = _UNSAFE_IN_QUOTES.sub("_", filename).strip() or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment_response(content: AttachmentContent, inline: bool = False) -> Response:
    """The file's exact bytes; shown in place only when asked and its bytes are a checked image or PDF."""
    info = content.info
    in_place = inline and info.inline
    headers = {
        "Content-Disposition": content_disposition("inline" if in_place else "attachment", info.filename),
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if not (in_place and info.kind is PreviewKind.PDF):
        # The browser's PDF viewer does not open in a sandboxed document; everything else may be one.
        headers["Content-Security-Policy"] = SANDBOXED
    return Response(content.data, media_type=info.served_type, headers=headers)
