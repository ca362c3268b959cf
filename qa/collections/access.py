"""API keys with roles: who may read which collections, and who may change them.

A key is held only as its sha256 (``KeyRing``): a keys file (``QA_KEYS_FILE``, written by
``qa keys add``) lists ``{"name", "sha256", "role", "collections"}``, and each ``QA_API_KEYS``
key is an admin of every collection, hashed when the settings are read. Roles are ordered:

    reader  ask, chat, read documents, send feedback, in its collections
    editor  + upload, delete, restore and re-index documents of its collections
    admin   + create and delete collections, see the gaps list (every collection it may read)

``QA_UPLOADS=off`` refuses uploads to every role. A collection a key may not read is reported
as 403 ``collection_forbidden``, never by its contents.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from qa.errors import CollectionForbiddenError, ConfigurationError, RoleForbiddenError, UploadsDisabledError

Role = Literal["reader", "editor", "admin"]
ROLES: tuple[Role, ...] = ("reader", "editor", "admin")
#: Collections value meaning "every collection, present and future".
ALL = "*"


def key_digest(key: str) -> str:
    """The sha256 hex digest a key is stored as."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a key's name (sessions and feedback are theirs), role and readable collections."""

    name: str
    role: Role
    collections: frozenset[str] | None = None  # None: every collection

    def can_read(self, collection: str) -> bool:
        """True when this key may read ``collection``."""
        return self.collections is None or collection in self.collections

    def require_read(self, collection: str) -> None:
        """CollectionForbiddenError (403) unless this key may read ``collection``."""
        if not self.can_read(collection):
            raise CollectionForbiddenError(
                f"This API key may not use collection {collection[:60]!r}; ask an admin for a key that can."
            )

    def require_role(self, role: Role, *, doing: str) -> None:
        """RoleForbiddenError (403) unless this key's role is at least ``role``."""
        if ROLES.index(self.role) < ROLES.index(role):
            raise RoleForbiddenError(
                f"Only {role} keys (or higher) may {doing}; this key is a {self.role} key. Ask an admin."
            )

    def require_edit(self, collection: str, *, doing: str, uploads: bool = True) -> None:
        """The checks before changing a collection's documents (``uploads`` False: QA_UPLOADS=off)."""
        self.require_read(collection)
        self.require_role("editor", doing=doing)
        if not uploads:
            raise UploadsDisabledError("Uploads are turned off on this server (QA_UPLOADS=off).")


#: Who calls a server without keys (loopback only): an admin of everything.
LOCAL = Principal("local", "admin", None)


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One key as stored: its digest and what it may do."""

    name: str
    sha256: str
    principal: Principal


class KeyRing:
    """The keys a server accepts, by digest only."""

    def __init__(self, entries: Iterable[KeyEntry] = ()) -> None:
        self.entries = tuple(entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    @classmethod
    def from_settings(cls, admin_keys: Iterable[str], keys_file: Path | None) -> KeyRing:
        """``QA_API_KEYS`` (admins of every collection) and the entries of ``QA_KEYS_FILE``."""
        entries = [
            KeyEntry(f"key-{n}", key_digest(key), Principal(f"key-{n}", "admin", None))
            for n, key in enumerate(admin_keys, 1)
        ]
        if keys_file is not None:
            entries.extend(read_keys_file(keys_file))
        return cls(entries)

    def match(self, token: str) -> Principal | None:
        """The principal of ``token``, comparing its digest with every entry (no early exit)."""
        digest = key_digest(token).encode("ascii")
        found = None
        for entry in self.entries:
            if hmac.compare_digest(digest, entry.sha256.encode("ascii")) and found is None:
                found = entry.principal
        return found


def read_keys_file(path: Path) -> list[KeyEntry]:
    """The entries of a keys file; ConfigurationError naming the bad entry and the fix."""
    try:
        rows = json.loads(path.read_text("utf-8")).get("keys", [])
    except (OSError, ValueError, AttributeError) as exc:
        raise ConfigurationError(
            f"Cannot read the keys file {str(path)!r} ({exc}). Make it with `qa keys add NAME --role reader`."
        ) from None
    entries = []
    for n, row in enumerate(rows):
        try:
            name, digest, role = str(row["name"]), str(row["sha256"]).lower(), row["role"]
            collections = row.get("collections", ALL)
        except (KeyError, TypeError):
            raise ConfigurationError(
                f"Entry {n} of {str(path)!r} needs name, sha256 and role; remake it with `qa keys add`."
            ) from None
        if role not in ROLES or len(digest) != 64 or not set(digest) <= set("0123456789abcdef"):
            raise ConfigurationError(
                f"Entry {n} ({name!r}) of {str(path)!r} has role {role!r} or a sha256 that is not 64 hex digits; "
                f"roles are {', '.join(ROLES)}."
            )
        allowed = None if collections == ALL else frozenset(str(c) for c in collections)
        entries.append(KeyEntry(name, digest, Principal(name, role, allowed)))
    return entries


def add_key(path: Path, name: str, *, role: Role, collections: Iterable[str] | None, key: str) -> None:
    """Append ``key`` (hashed) to the keys file at ``path``, creating it; an existing name is replaced."""
    rows = []
    if path.is_file():
        rows = [row for row in json.loads(path.read_text("utf-8")).get("keys", []) if row.get("name") != name]
    rows.append(
        {
            "name": name,
            "sha256": key_digest(key),
            "role": role,
            "collections": ALL if collections is None else sorted(collections),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"keys": rows}, indent=2) + "\n", "utf-8")
