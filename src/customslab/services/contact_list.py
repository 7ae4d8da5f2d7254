"""The RCL contact-point list the heads of the Regional Customs Laboratories agreed to keep.

One list, the active contact points of the active laboratories designated RCL, rendered as CSV (Python's
csv module) and as vCard 3.0 (the `vobject` library), for a spreadsheet or an address book.
"""

from __future__ import annotations

import csv
import io
import re

import pycountry
import vobject

from customslab.domain.access import Actor
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork


class RclContact(View):
    """One contact point of a Regional Customs Laboratory."""

    org_code: str
    organisation: str
    administration_code: str
    administration: str
    country: str
    rcl_region: str
    address: str
    name: str
    role: str
    email: str
    phone: str


def rcl_contacts(uow: AbstractUnitOfWork, actor: Actor) -> list[RclContact]:
    """The active contact points of the active RCLs, by region, laboratory and position; any signed-in
    user of the network may read the list (it is the network's directory, not case data)."""
    with uow:
        names = {a.code: a.name for a in uow.repo.administrations()}
        rows = [
            RclContact(
                org_code=org.code,
                organisation=org.name,
                administration_code=org.administration_code,
                administration=names.get(org.administration_code, ""),
                country=org.country,
                rcl_region=org.rcl_region,
                address=org.address,
                name=point.name,
                role=point.role,
                email=point.email,
                phone=point.phone,
            )
            for org in uow.repo.orgs()
            if org.active and org.is_rcl
            for point in org.contact_points
            if point.active
        ]
        return sorted(rows, key=lambda r: (r.rcl_region, r.org_code))


CSV_COLUMNS = (
    "rcl_region",
    "org_code",
    "organisation",
    "administration_code",
    "administration",
    "country",
    "name",
    "role",
    "email",
    "phone",
    "address",
)
_PHONE = re.compile(r"^[+\-]?[0-9 ().\-/]*$")


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting with =, @, + or - would run as a formula (CSV
    injection, OWASP), so it gets a leading apostrophe; a phone number such as +82 42 ... keeps its +."""
    if value[:1] in ("=", "@", "\t", "\r") or (value[:1] in ("+", "-") and not _PHONE.match(value)):
        return "'" + value
    return value


def contacts_csv(rows: list[RclContact]) -> str:
    """The list as CSV (RFC 4180, a header row, CRLF line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(str(getattr(row, column))) for column in CSV_COLUMNS])
    return out.getvalue()


def _country_name(code: str) -> str:
    found = pycountry.countries.get(alpha_2=code)
    return str(found.name) if found is not None else code


def contacts_vcard(rows: list[RclContact]) -> str:
    """The list as vCard 3.0 (RFC 2426), one card per contact point."""
    cards = []
    for row in rows:
        card = vobject.vCard()
        card.add("fn").value = row.name
        card.add("n").value = vobject.vcard.Name(family=row.name)
        card.add("org").value = [row.organisation]
        if row.role:
            card.add("title").value = row.role
        if row.email:
            email = card.add("email")
            email.value, email.type_param = row.email, "INTERNET"
        if row.phone:
            tel = card.add("tel")
            tel.value, tel.type_param = row.phone, "WORK"
        card.add("adr").value = vobject.vcard.Address(street=row.address, country=_country_name(row.country))
        region = f", {row.rcl_region}" if row.rcl_region else ""
        card.add("note").value = (
            f"WCO Regional Customs Laboratory{region}; {row.administration or row.administration_code}; "
            f"laboratory code {row.org_code}"
        )
        card.add("categories").value = ["WCO RCL"]
        cards.append(card.serialize())
    return "".join(cards)
