"""The playground: one HTML page (plain JavaScript, nothing fetched from elsewhere) served at `GET /`.

Its inline script and style are allowed by their hashes in the Content-Security-Policy, so nothing
else can run on the page, and it may only talk to this gateway.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

PAGE = Path(__file__).with_name("index.html")
PATH = "/"


def _hashes(html: str, tag: str) -> str:
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks)


def add_playground(app: FastAPI) -> None:
    html = PAGE.read_text()
    headers = {
        "content-security-policy": (
            f"default-src 'none'; script-src {_hashes(html, 'script')}; style-src {_hashes(html, 'style')}; "
            "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-cache",
    }

    @app.get(PATH, include_in_schema=False)
    async def playground() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)
