"""Storage of the HS nomenclature and national tariffs, with the database's own full-text search.

Full text: SQLite uses an FTS5 external-content table (`hs_nodes_fts`, porter stemming) kept in step by
triggers and ranked with bm25(); PostgreSQL uses a stored generated tsvector column
(`to_tsvector('english', description)`) with a GIN index, queried with websearch_to_tsquery and ranked
with ts_rank.

Ranking (ours, the same on both databases): the database ranks every matching chapter, heading and
subheading; each hit then counts for its heading (chapters for themselves). A heading scores its best hit
— its own description weighted ×1.5, because the heading text is the legal one — plus 0.3 × the sum of
its other hits. So "rum" finds 2208 through 2208.40, and "polyethylene" finds 3901 through both its
subheadings before a single mention under 56.07. A hit whose description contains the query words
as a phrase counts ×2 ("cane sugar" is 17.01, "sugar cane" is 12.12). A word "polyX" also matches
"polymers … X", the wording of the legal texts ("Polymers of ethylene").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
)

from customslab.adapters.tables_base import keyed_table, metadata
from customslab.hs.nomenclature import (
    DEFAULT_EDITION,
    HsError,
    HsNode,
    normalise_code,
)
from customslab.hs.nomenclature import (
    load_nomenclature as parse_nomenclature,
)
from customslab.hs.tariff import TariffLine, read_tariff_csv

hs_editions = Table(
    "hs_editions",
    metadata,
    Column("edition", String(20), primary_key=True),
    Column("source", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)

hs_sections = Table(
    "hs_sections",
    metadata,
    Column("edition", String(20), primary_key=True),
    Column("numeral", String(8), primary_key=True),
    Column("name", Text, nullable=False),
    ForeignKeyConstraint(["edition"], ["hs_editions.edition"], ondelete="CASCADE"),
)

hs_nodes = keyed_table(
    "hs_nodes",
    Column("edition", String(20), nullable=False, index=True),
    Column("code", String(6), nullable=False),
    Column("level", Integer, nullable=False),
    Column("parent", String(6), nullable=True, index=True),
    Column("section", String(8), nullable=False),
    Column("description", Text, nullable=False),
    UniqueConstraint("edition", "code"),
    ForeignKeyConstraint(["edition"], ["hs_editions.edition"], ondelete="CASCADE"),
)

national_tariff_editions = Table(
    "national_tariff_editions",
    metadata,
    Column("country", String(3), primary_key=True),
    Column("edition", String(40), primary_key=True),
    Column("hs_edition", String(20), nullable=False),
    Column("source", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)

national_tariff_lines = keyed_table(
    "national_tariff_lines",
    Column("country", String(3), nullable=False),
    Column("edition", String(40), nullable=False),
    Column("code", String(10), nullable=False),
    Column("description", Text, nullable=False),
    Column("ad_valorem", Float, nullable=False),
    Column("specific", Float, nullable=True),
    Column("specific_unit", String(40), nullable=True),
    Column("unit", String(20), nullable=True),
    UniqueConstraint("country", "edition", "code"),
    ForeignKeyConstraint(
        ["country", "edition"],
        ["national_tariff_editions.country", "national_tariff_editions.edition"],
        ondelete="CASCADE",
    ),
)

HS_TABLES = (hs_editions, hs_sections, hs_nodes, national_tariff_editions, national_tariff_lines)

_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS hs_nodes_fts USING fts5("
    "description, content='hs_nodes', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS hs_nodes_fts_ai AFTER INSERT ON hs_nodes BEGIN "
    "INSERT INTO hs_nodes_fts(rowid, description) VALUES (new.id, new.description); END",
    "CREATE TRIGGER IF NOT EXISTS hs_nodes_fts_ad AFTER DELETE ON hs_nodes BEGIN "
    "INSERT INTO hs_nodes_fts(hs_nodes_fts, rowid, description) "
    "VALUES ('delete', old.id, old.description); END",
    "CREATE TRIGGER IF NOT EXISTS hs_nodes_fts_au AFTER UPDATE ON hs_nodes BEGIN "
    "INSERT INTO hs_nodes_fts(hs_nodes_fts, rowid, description) "
    "VALUES ('delete', old.id, old.description); "
    "INSERT INTO hs_nodes_fts(rowid, description) VALUES (new.id, new.description); END",
)
_POSTGRES_FTS = (
    "ALTER TABLE hs_nodes ADD COLUMN IF NOT EXISTS search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', description)) STORED",
    "CREATE INDEX IF NOT EXISTS ix_hs_nodes_search_vector ON hs_nodes USING gin (search_vector)",
)
_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS hs_nodes_fts_ai",
    "DROP TRIGGER IF EXISTS hs_nodes_fts_ad",
    "DROP TRIGGER IF EXISTS hs_nodes_fts_au",
    "DROP TABLE IF EXISTS hs_nodes_fts",
)
_POSTGRES_DROP = (
    "DROP INDEX IF EXISTS ix_hs_nodes_search_vector",
    "ALTER TABLE hs_nodes DROP COLUMN IF EXISTS search_vector",
)
HEADING_WEIGHT = 1.5
OTHER_HITS_WEIGHT = 0.3
PHRASE_WEIGHT = 2.0
CANDIDATE_HITS = 500


def _dialect(conn: Connection) -> str:
    name = conn.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise HsError(f"full-text search is implemented for SQLite and PostgreSQL, not {name}")
    return name


def create_fts(conn: Connection) -> None:
    """Dialect-specific full-text DDL on hs_nodes (idempotent); the Alembic migration calls it."""
    for statement in _SQLITE_FTS if _dialect(conn) == "sqlite" else _POSTGRES_FTS:
        conn.execute(text(statement))


def drop_fts(conn: Connection) -> None:
    for statement in _SQLITE_DROP if _dialect(conn) == "sqlite" else _POSTGRES_DROP:
        conn.execute(text(statement))


def ensure_schema(conn: Connection) -> bool:
    """Create the HS tables and full-text search where missing; True when anything was created."""
    missing = [t for t in HS_TABLES if not inspect(conn).has_table(t.name)]
    metadata.create_all(conn, tables=list(HS_TABLES), checkfirst=True)
    create_fts(conn)
    return bool(missing)


def is_loaded(conn: Connection, edition: str = DEFAULT_EDITION) -> bool:
    if not inspect(conn).has_table(hs_nodes.name):
        return False
    return (
        conn.execute(
            select(func.count()).select_from(hs_nodes).where(hs_nodes.c.edition == edition)
        ).scalar_one()
        > 0
    )


def load_nomenclature(
    conn: Connection, csv_dir: Path | str, edition: str = DEFAULT_EDITION
) -> dict[str, int]:
    """(Re)load one edition from the CSV folder inside the caller's transaction; returns counts per level."""
    parsed = parse_nomenclature(csv_dir, edition)  # parse everything before writing anything
    conn.execute(delete(hs_nodes).where(hs_nodes.c.edition == edition))
    conn.execute(delete(hs_sections).where(hs_sections.c.edition == edition))
    conn.execute(delete(hs_editions).where(hs_editions.c.edition == edition))
    conn.execute(
        insert(hs_editions), [{"edition": edition, "source": str(csv_dir), "loaded_at": datetime.now(UTC)}]
    )
    if parsed.sections:
        conn.execute(
            insert(hs_sections),
            [{"edition": edition, "numeral": s.numeral, "name": s.name} for s in parsed.sections.values()],
        )
    conn.execute(
        insert(hs_nodes),
        [
            {
                "edition": edition,
                "code": n.code,
                "level": n.level,
                "parent": n.parent,
                "section": n.section,
                "description": n.description,
            }
            for n in sorted(parsed.nodes.values(), key=lambda n: n.code)
        ],
    )
    counts = parsed.count_by_level()
    return {"chapters": counts.get(2, 0), "headings": counts.get(4, 0), "subheadings": counts.get(6, 0)}


def _node(row: object) -> HsNode:
    return HsNode(row.code, row.level, row.parent, row.section, row.description)  # type: ignore[attr-defined]


def get_node(conn: Connection, code: str, edition: str = DEFAULT_EDITION) -> HsNode | None:
    query = select(hs_nodes).where(hs_nodes.c.edition == edition, hs_nodes.c.code == normalise_code(code))
    row = conn.execute(query).first()
    return _node(row) if row else None


def children(conn: Connection, code: str | None, edition: str = DEFAULT_EDITION) -> list[HsNode]:
    """Direct children of a code; with code None, the chapters."""
    parent = hs_nodes.c.parent.is_(None) if code is None else hs_nodes.c.parent == normalise_code(code)
    rows = conn.execute(
        select(hs_nodes).where(hs_nodes.c.edition == edition, parent).order_by(hs_nodes.c.code)
    )
    return [_node(r) for r in rows]


def sections(conn: Connection, edition: str = DEFAULT_EDITION) -> list[tuple[str, str]]:
    rows = conn.execute(
        select(hs_sections.c.numeral, hs_sections.c.name).where(hs_sections.c.edition == edition)
    )
    return [(r.numeral, r.name) for r in rows]


def chapters_in_section(conn: Connection, numeral: str, edition: str = DEFAULT_EDITION) -> list[HsNode]:
    query = select(hs_nodes).where(
        hs_nodes.c.edition == edition, hs_nodes.c.level == 2, hs_nodes.c.section == numeral
    )
    return [_node(r) for r in conn.execute(query.order_by(hs_nodes.c.code))]


@dataclass
class SearchHit:
    code: str
    level: int
    description: str
    score: float
    matches: list[tuple[str, str]] = field(default_factory=list)  # matching subheadings beneath it


def _expand(word: str) -> list[list[str]]:
    """Alternatives for one query word: itself, and "polyX" also as "polymers X" (the legal texts say
    "Polymers of ethylene" where users type "polyethylene")."""
    match = re.fullmatch(r"poly[-(]?([a-z]{4,})\)?", word.lower())
    return [[word], ["polymers", match.group(1)]] if match else [[word]]


def _fts_rows(conn: Connection, words: list[str], edition: str) -> list[tuple[str, int, str, float]]:
    params: dict[str, object] = {"edition": edition, "limit": CANDIDATE_HITS}
    if _dialect(conn) == "sqlite":
        # Quoted tokens: user text never reaches FTS5 query syntax; juxtaposition means AND.
        def quoted(tokens: list[str]) -> str:
            return " AND ".join('"' + t.replace('"', "") + '"' for t in tokens)

        params["q"] = " AND ".join(
            "(" + " OR ".join(f"({quoted(alt)})" for alt in _expand(w)) + ")" for w in words
        )
        sql = text(
            "SELECT n.code, n.level, n.description, -bm25(hs_nodes_fts) AS relevance "
            "FROM hs_nodes_fts JOIN hs_nodes n ON n.id = hs_nodes_fts.rowid "
            "WHERE hs_nodes_fts MATCH :q AND n.edition = :edition ORDER BY bm25(hs_nodes_fts) LIMIT :limit"
        )
    else:
        # Every user word is a bound parameter of plainto_tsquery; only the operators are ours.
        terms = []
        for i, word in enumerate(words):
            alternatives = []
            for j, alt in enumerate(_expand(word)):
                parts = []
                for k, token in enumerate(alt):
                    params[f"w{i}_{j}_{k}"] = token
                    parts.append(f"plainto_tsquery('english', :w{i}_{j}_{k})")
                alternatives.append("(" + " && ".join(parts) + ")")
            terms.append("(" + " || ".join(alternatives) + ")")
        sql = text(
            "SELECT code, level, description, ts_rank(search_vector, q) AS relevance "
            f"FROM hs_nodes, (SELECT {' && '.join(terms)} AS q) AS query "
            "WHERE search_vector @@ q AND edition = :edition ORDER BY relevance DESC LIMIT :limit"
        )
    rows = conn.execute(sql, params)
    return [(r.code, r.level, r.description, float(r.relevance)) for r in rows]


def search(conn: Connection, query: str, edition: str = DEFAULT_EDITION, limit: int = 20) -> list[SearchHit]:
    """Full-text search grouped by heading (see module docstring), or code-prefix search for digits."""
    cleaned = query.strip()
    if not cleaned:
        raise HsError("search text is empty")
    compact = re.sub(r"[\s.]", "", cleaned)
    if compact.isdigit():
        rows = conn.execute(
            select(hs_nodes)
            .where(hs_nodes.c.edition == edition, hs_nodes.c.code.startswith(compact, autoescape=True))
            .order_by(hs_nodes.c.level, hs_nodes.c.code)
            .limit(limit)
        )
        return [SearchHit(r.code, r.level, r.description, 1.0) for r in rows]
    words = re.findall(r"\w+", cleaned)
    if not words:
        raise HsError(f"search text {query!r} has no words")
    groups: dict[str, list[tuple[str, int, str, float]]] = {}
    for hit in _fts_rows(conn, words, edition):
        groups.setdefault(hit[0][:4] if hit[1] >= 4 else hit[0], []).append(hit)
    results = []
    phrase = " ".join(w.lower() for w in words)
    for key, hits in groups.items():
        weighted = sorted(
            (
                rel
                * (HEADING_WEIGHT if code == key else 1.0)
                * (PHRASE_WEIGHT if len(words) > 1 and phrase in desc.lower() else 1.0)
                for code, _, desc, rel in hits
            ),
            reverse=True,
        )
        score = weighted[0] + OTHER_HITS_WEIGHT * sum(weighted[1:])
        own = get_node(conn, key, edition)
        description = own.description if own else hits[0][2]
        matches = sorted((code, desc) for code, _, desc, _ in hits if code != key)
        results.append(SearchHit(key, len(key), description, score, matches))
    results.sort(key=lambda h: (-h.score, h.code))
    return results[:limit]


def load_tariff_csv(
    conn: Connection, path: Path | str, country: str, edition: str, hs_edition: str = DEFAULT_EDITION
) -> int:
    """Replace one country's tariff edition from a CSV (columns in customslab.hs.tariff); returns lines."""
    country = country.strip().upper()
    if not re.fullmatch(r"[A-Z]{2,3}", country):
        raise HsError(f"country {country!r} must be an ISO 3166 alpha-2 or alpha-3 code")
    if not edition.strip():
        raise HsError("a tariff edition name is required, e.g. KR-2025")
    lines = read_tariff_csv(path)
    known = set(
        conn.execute(
            select(hs_nodes.c.code).where(hs_nodes.c.edition == hs_edition, hs_nodes.c.level == 6)
        ).scalars()
    )
    if not known:
        raise HsError(f"load the {hs_edition} nomenclature before a national tariff")
    unknown = [line.code for line in lines if line.code[:6] not in known]
    if unknown:
        raise HsError(f"{len(unknown)} line(s) are not under a {hs_edition} subheading, e.g. {unknown[0]}")
    conn.execute(
        delete(national_tariff_editions).where(
            national_tariff_editions.c.country == country, national_tariff_editions.c.edition == edition
        )
    )
    conn.execute(
        delete(national_tariff_lines).where(
            national_tariff_lines.c.country == country, national_tariff_lines.c.edition == edition
        )
    )
    conn.execute(
        insert(national_tariff_editions),
        [
            {
                "country": country,
                "edition": edition,
                "hs_edition": hs_edition,
                "source": str(path),
                "loaded_at": datetime.now(UTC),
            }
        ],
    )
    conn.execute(
        insert(national_tariff_lines),
        [
            {
                "country": country,
                "edition": edition,
                "code": line.code,
                "description": line.description,
                "ad_valorem": line.ad_valorem,
                "specific": line.specific,
                "specific_unit": line.specific_unit,
                "unit": line.unit,
            }
            for line in lines
        ],
    )
    return len(lines)


def tariff_lines(conn: Connection, country: str, edition: str, prefix: str = "") -> list[TariffLine]:
    t = national_tariff_lines.c
    query = select(national_tariff_lines).where(t.country == country.upper(), t.edition == edition)
    if prefix:
        query = query.where(t.code.startswith(normalise_code(prefix, allow_national=True), autoescape=True))
    rows = conn.execute(query.order_by(t.code))
    return [
        TariffLine(r.code, r.description, r.ad_valorem, r.specific, r.specific_unit, r.unit) for r in rows
    ]


def tariff_line(conn: Connection, country: str, edition: str, code: str) -> TariffLine | None:
    """The line with exactly this code (8–10 digits) in a country's tariff edition."""
    found = [
        line
        for line in tariff_lines(conn, country, edition, code)
        if line.code == normalise_code(code, allow_national=True)
    ]
    return found[0] if found else None


def tariff_editions(conn: Connection, country: str) -> Sequence[str]:
    t = national_tariff_editions.c
    return list(
        conn.execute(select(t.edition).where(t.country == country.upper()).order_by(t.edition)).scalars()
    )
