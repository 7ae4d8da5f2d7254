"""What every page shares: templates, the signed-in actor, CSRF, translations and error pages."""

from __future__ import annotations

import gettext
import logging
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from customslab.domain.access import PERMISSIONS, Action, Actor
from customslab.domain.enums import Role
from customslab.domain.errors import NotFound
from customslab.entrypoints.api.deps import policy_of
from customslab.entrypoints.web.measurands import FILTERS as MEASURAND_FILTERS
from customslab.hs.nomenclature import format_code
from customslab.hs.verdict import code_words
from customslab.services import auth, notifications
from customslab.services.ports import AbstractUnitOfWork

log = logging.getLogger("customslab.web")
HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
LANGUAGES = {"en": "English", "ko": "한국어"}
#: The cookie's key for the session token; the cookie holds nothing else but lang, csrf and flash.
SESSION_TOKEN = "sid"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

templates = Jinja2Templates(directory=str(HERE / "templates"))
#: HS codes as people read them: '180690' → '1806.90'.
templates.env.filters["hs"] = format_code
#: A result's measurand, kind and outcome in the page's language (`{{ r.name|measurand }}`).
templates.env.filters.update(MEASURAND_FILTERS)
templates.env.filters["hs_level"] = code_words  # a code at its level, in the page's language


class LoginRequired(Exception):
    """The page needs a signed-in user; the handler redirects to the sign-in page."""


class CsrfRefused(Exception):
    """A POST without the session's CSRF token (a forged cross-site form, or an expired page)."""


@lru_cache(maxsize=8)
def translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation("messages", localedir=LOCALE_DIR, languages=[lang], fallback=True)


def language(request: Request) -> str:
    lang = str(request.session.get("lang", "en"))
    return lang if lang in LANGUAGES else "en"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def uow_of(request: Request) -> AbstractUnitOfWork:
    factory: Callable[[], AbstractUnitOfWork] = request.app.state.uow_factory
    return factory()


def optional_actor(request: Request) -> Actor | None:
    """The actor of the session, or None: the cookie's token is checked against the stored sessions, so
    a cookie kept from before a sign-out, a timeout or a revocation opens nothing."""
    token = request.session.get(SESSION_TOKEN)
    if not token:
        return None
    try:
        who = auth.session_user(uow_of(request), str(token), "web", policy_of(request))
    except NotFound:
        forget_session(request)
        return None
    request.state.full_name = who.full_name
    return who.actor


def start_session(request: Request, token: str) -> None:
    """A fresh cookie on sign-in (no fixation of a pre-login session): the token, and the language."""
    lang = request.session.get("lang")
    request.session.clear()
    request.session[SESSION_TOKEN] = token
    if lang:
        request.session["lang"] = lang


def forget_session(request: Request) -> None:
    """Empty the cookie but keep the chosen language."""
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang


def page_actor(request: Request) -> Actor:
    actor = optional_actor(request)
    if actor is None:
        raise LoginRequired()
    request.state.actor = actor
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token (field or htmx header) matches the session's."""
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD) or "")
    expected = request.session.get("csrf")
    if not expected or not secrets.compare_digest(str(expected), sent):
        raise CsrfRefused()
    return form


Form = Annotated[FormData, Depends(checked_form)]


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def nav_for(actor: Actor | None) -> list[tuple[str, str]]:
    """The navigation links a role needs, as (path, label)."""
    if actor is None:
        return []
    links: list[tuple[str, str]] = []
    if actor.has(Role.REQUESTER, Role.SUPERVISOR, Role.FOCAL_POINT):
        links += [("/requests", N_("My requests")), ("/requests/new", N_("New request"))]
    if actor.has(Role.ANALYST, Role.REVIEWER, Role.LAB_MANAGER, Role.NETWORK_COORDINATOR):
        links.append(("/queue", N_("Laboratory queue")))
    if actor.has(Role.ANALYST, Role.REVIEWER, Role.LAB_MANAGER):
        links.append(("/receive", N_("Receive samples")))
    if actor.has(Role.ANALYST):
        links.append(("/my-work", N_("My work")))
        links.append(("/results/import", N_("Import results")))
    if actor.has(Role.REVIEWER):
        links.append(("/queue?state=to_be_reviewed", N_("To review")))
    if actor.has(Role.ANALYST, Role.REVIEWER, Role.LAB_MANAGER, Role.NETWORK_COORDINATOR, Role.FOCAL_POINT):
        links.append(("/referred-out", N_("Referred out")))
    links.append(("/hs", N_("HS nomenclature")))
    if actor.has(Role.ANALYST, Role.REVIEWER, Role.LAB_MANAGER):
        links.append(("/quality", N_("Quality registers")))
    elif actor.has(Role.NETWORK_COORDINATOR):
        # A coordinator opens and evaluates the network's PT rounds; the registers are the laboratories'.
        links.append(("/quality/pt", N_("Proficiency testing")))
    if actor.has(Role.ANALYST, Role.REVIEWER, Role.LAB_MANAGER, Role.NETWORK_COORDINATOR, Role.FOCAL_POINT):
        links.append(("/joint-analyses", N_("Joint analyses")))
    if actor.has(Role.ANALYST, Role.REVIEWER, Role.LAB_MANAGER, Role.NETWORK_COORDINATOR):
        links.append(("/shared-knowledge", N_("Shared knowledge")))
    if actor.roles & PERMISSIONS[Action.READ_KNOWLEDGE]:
        links.append(("/knowledge", N_("Knowledge")))
        # Training is seen by the same roles as the knowledge base (the table's Kind.TRAINING cells).
        links.append(("/training", N_("Training")))
    if actor.has(Role.LAB_MANAGER, Role.NETWORK_COORDINATOR, Role.ADMIN, Role.REVIEWER):
        links.append(("/dashboard", N_("Network dashboard")))
    if actor.roles & PERMISSIONS[Action.VIEW_TARGETING]:
        links.append(("/targeting", N_("Targeting feedback")))
    if actor.has(Role.ADMIN):
        links += [("/admin/organisations", N_("Organisations")), ("/admin/users", N_("Users"))]
        links.append(("/admin/partners", N_("Partners")))
        links.append(("/admin/messages", N_("Messages to partners")))
    return links


def say(request: Request, message: str, **values: Any) -> str:
    """A message in the session's language, its {placeholders} filled in after translation."""
    return translations(language(request)).gettext(message).format(**values)


def _unread(request: Request, actor: Actor | None) -> int:
    """The bell's count: one COUNT for a signed-in user's full page (an htmx fragment has no top bar)."""
    if actor is None or is_htmx(request):
        return 0
    try:
        return notifications.unread_count(uow_of(request), actor)
    # The count is a courtesy: an error page rendered while the database is away must still render.
    except Exception:
        log.warning("the unread notifications could not be counted", exc_info=True)
        return 0


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a template with what every page needs (actor, navigation, CSRF token, translations)."""
    lang = language(request)
    tr = translations(lang)
    actor: Actor | None = getattr(request.state, "actor", None)
    ctx: dict[str, Any] = {
        "actor": actor,
        "full_name": getattr(request.state, "full_name", ""),
        "nav": nav_for(actor),
        "csrf": csrf_token(request),
        "lang": lang,
        "languages": LANGUAGES,
        "_": tr.gettext,
        "ngettext": tr.ngettext,
        "flash": request.session.pop("flash", None),
        "path": request.url.path,
    }
    ctx.update(context or {})
    if "unread_notifications" not in ctx:
        ctx["unread_notifications"] = _unread(request, actor)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def flash_redirect(request: Request, url: str, message: str) -> Response:
    """After a change: say what happened on the next page (POST/redirect/GET)."""
    request.session["flash"] = message
    if request.headers.get("hx-request"):
        headers = {"HX-Redirect": url}
        if _same_page(request, url):
            # htmx sets location.href, and a change of the #fragment alone does not reload the page.
            headers["HX-Refresh"] = "true"
        return Response(status_code=204, headers=headers)
    return RedirectResponse(url, status_code=303)


def _same_page(request: Request, url: str) -> bool:
    """Whether `url` is the page the htmx request came from, give or take its #fragment."""
    target, current = urlsplit(url), urlsplit(request.headers.get("hx-current-url", ""))
    return bool(target.fragment) and (target.path, target.query) == (current.path, current.query)


def is_htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))
