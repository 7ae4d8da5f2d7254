"""The result import pages: an export uploaded, its preview, the confirmation; and the laboratory's
column mappings of instrument models.

The preview keeps the uploaded file in the file store (content-addressed) and the confirmation form
names it by a token signed with the deployment's secret key, for the user who previewed it and for an
hour, so a page cannot commit a file it did not preview nor another user's. The use cases are the API's.

Retention: a file is kept only by a preview that has results to write (one without any offers no
confirmation). Kept, it is attached to nothing until its confirmation writes the results; one never
confirmed stays in the store unreferenced. It is not deleted: the store is content-addressed, so the
same bytes may be a test's attachment (an earlier import, a hand upload), and the store offers no
removal that could tell.
"""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

from customslab.domain.access import Actor
from customslab.domain.errors import ValidationFailed
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.api.routes_import import uploaded_export
from customslab.entrypoints.uploads import uploaded_file
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, is_htmx, render, say, uow_of
from customslab.entrypoints.web.import_forms import mapping_command, mapping_values
from customslab.services import instrument_mappings as mappings
from customslab.services import result_import
from customslab.services.contract import parse
from customslab.services.result_import import ImportConfirm, ImportFile, ImportOptions
from customslab.services.result_import_views import import_page

router = APIRouter(include_in_schema=False)

#: How long a preview's kept file may be confirmed.
KEPT_SECONDS = 3600
_OPTIONS = ("mapping_id", "equipment_id", "qc_batch_id")


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="customslab-result-import")


def _kept_token(request: Request, actor: Actor, sha256: str, name: str) -> str:
    return str(_signer(request).dumps({"sha256": sha256, "name": name, "user": actor.user_id}))


def _kept_file(request: Request, actor: Actor, token: str) -> ImportFile:
    """The file a preview kept for this user, by the token of its confirmation form."""
    try:
        kept: Any = _signer(request).loads(token, max_age=KEPT_SECONDS)
    except BadSignature:
        raise ValidationFailed(
            "The preview has expired: choose the file and preview it again.", "file"
        ) from None
    if not isinstance(kept, dict) or kept.get("user") != actor.user_id:
        raise ValidationFailed("This preview is not yours: choose the file and preview it again.", "file")
    content = result_import.kept_import_file(uow_of(request), str(kept.get("sha256", "")))
    return ImportFile(str(kept.get("name", "export")), content)


def _options(form: FormData) -> dict[str, str]:
    return {name: str(form.get(name) or "") for name in _OPTIONS}


@router.get("/results/import")
def import_form(request: Request, actor: PageActor) -> Response:
    """Upload an instrument export to preview the results it holds."""
    page = import_page(uow_of(request), actor)
    return render(request, "results_import.html", {"page": page, "preview": None, "chosen": {}})


@router.post("/results/import/preview")
def preview(request: Request, actor: PageActor, form: Form) -> Response:
    """What the export would write and what not, with the button that writes it."""
    options = parse(ImportOptions, _options(form))
    file = uploaded_export(uploaded_file(form, "Choose the instrument's export (CSV or XLSX)."))
    shown = result_import.preview_import(uow_of(request), actor, options, file)
    kept = ""
    if shown.rows:  # nothing to write, nothing to confirm: the file is not kept
        sha = result_import.keep_import_file(uow_of(request), io.BytesIO(file.content))
        kept = _kept_token(request, actor, sha, file.name)
    context = {"preview": shown, "kept": kept}
    if is_htmx(request):
        return render(request, "_import_preview.html", context)
    page = import_page(uow_of(request), actor)
    return render(request, "results_import.html", {"page": page, "chosen": _options(form), **context})


@router.post("/results/import/commit")
def commit(request: Request, actor: PageActor, form: Form) -> Response:
    """Write the previewed results, all of them or none."""
    confirm = parse(ImportConfirm, {**_options(form), "fingerprint": str(form.get("fingerprint") or "")})
    file = _kept_file(request, actor, str(form.get("kept") or ""))
    done = result_import.commit_import(uow_of(request), actor, confirm, file)
    message = say(request, "{n} results written on {t} tests.", n=done.written, t=len(done.tests))
    return flash_redirect(request, "/results/import", message)


@router.get("/results/mappings")
def mapping_list(request: Request, actor: PageActor) -> Response:
    """The laboratory's column mappings, one per instrument model."""
    listed = mappings.list_mappings(uow_of(request), actor, request.query_params.get("lab") or None)
    return render(request, "results_mappings.html", {"listed": listed, "values": mapping_values(None)})


@router.post("/results/mappings")
def add_mapping(request: Request, actor: PageActor, form: Form) -> Response:
    """Save how an instrument model's exports are read."""
    saved = mappings.create_mapping(uow_of(request), actor, mapping_command(form))
    message = say(request, "Mapping {name} saved.", name=saved.instrument_model)
    return flash_redirect(request, f"/results/mappings/{saved.id}", message)


@router.get("/results/mappings/{mapping_id}")
def mapping_page(request: Request, actor: PageActor, mapping_id: PathId) -> Response:
    """One mapping, and its form for the laboratory manager."""
    shown = mappings.mapping_detail(uow_of(request), actor, mapping_id)
    may = mappings.list_mappings(uow_of(request), actor, shown.lab_code).may_manage
    context = {"m": shown, "may_manage": may, "values": mapping_values(shown)}
    return render(request, "results_mapping.html", context)


@router.post("/results/mappings/{mapping_id}")
def edit_mapping(request: Request, actor: PageActor, mapping_id: PathId, form: Form) -> Response:
    """Change a mapping; previews made with the old one must be made again."""
    saved = mappings.update_mapping(uow_of(request), actor, mapping_id, mapping_command(form))
    message = say(request, "Mapping {name} saved.", name=saved.instrument_model)
    return flash_redirect(request, f"/results/mappings/{saved.id}", message)
