"""The web chat page, its assets, and offline OpenAPI docs (no CDN, no inline script)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.errors import error_response

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    """The chat page."""
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def mount_pages(app: FastAPI) -> None:
    """Serve the page, ``/static`` and ``/docs`` (Swagger UI from the swagger-ui-py package)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    swagger_dir = _swagger_assets()
    if swagger_dir is not None:
        app.mount("/docs/assets", StaticFiles(directory=swagger_dir), name="docs-assets")

    @app.get("/docs", include_in_schema=False, response_model=None)
    async def docs() -> FileResponse | object:
        """Swagger UI for /openapi.json."""
        if swagger_dir is None:
            return error_response(
                404, "docs_not_installed", "Swagger UI is not installed: pip install swagger-ui-py. See /openapi.json."
            )
        return FileResponse(STATIC_DIR / "docs.html")


def _swagger_assets() -> Path | None:
    try:
        import swagger_ui
    except ImportError:
        return None
    folder = Path(swagger_ui.__file__).resolve().parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None
