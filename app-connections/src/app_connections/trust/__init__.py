"""Plugin trust: which installed plugins a host loads, and what each hook may see.

Three parts, each usable on its own by a host with its own loader:

1. **Allow-list with pins.** ``APP_CONNECTIONS_ALLOWED_PLUGINS`` (comma-separated) turns a loader
   into allow-list mode. Grammar of one entry (no spaces inside an entry)::

       entry   = name [ "==" version [ "@sha256:" hex64 ] ] { ":secrets" | ":owns=" slug }

   ``name`` is a distribution name (compared after PEP 503 normalisation), ``version`` its
   version exactly as its metadata spells it, ``hex64`` the SHA-256 of its installed ``RECORD``
   file, ``:secrets`` grants the distribution's hooks the secrets of connections it does not
   own (see 3), and ``:owns=<slug>`` names it the one owner of a connection type.
   :func:`parse_allow_list` turns the text into an :class:`AllowList` or raises
   :class:`AllowListError` naming the bad entry.
2. **Tamper check.** :func:`judge` decides, *before anything is imported*, whether a
   distribution's entry points may load: listed, same version, same ``RECORD`` digest, every
   file ``RECORD`` lists with a hash unchanged (:func:`verify_files`), and the entry point's
   top-level module resolving to one of those files (not shadowed by another ``sys.path`` entry).
3. **Least privilege for hooks.** A hook from another distribution than the one(s) that
   registered a connection's type and auth method sees a :class:`CredentialsView` (only the
   fields the method's ``input_schema()`` declares and does not mark secret) and no token
   credential, unless granted. :func:`may_see_secrets`, :func:`split_by_trust` and
   :func:`restricted_request` are the pieces a pluggy-driven ``validate`` combines.

4. **Pinned imports.** For a distribution pinned by digest, :func:`import_problem` refuses code
   its ``RECORD`` does not list before import, and :data:`GUARD` (a ``sys.meta_path`` finder)
   executes only ``RECORD``-listed, hash-checked files for its module names from then on.

Modules: ``allowlist`` (grammar), ``distributions`` (who a distribution is), ``entry_points``
(a group's entry points, each distribution read on its own), ``installed`` (RECORD digests, tamper
check, pins), ``imports`` (what a pinned distribution may import, the import guard), ``verdicts``
(decision, provenance, the loader's ``TrustReport``), ``hooks`` (least privilege); everything
public is re-exported here. Standard library plus this package's error classes: nothing here
imports a plugin or an SDK, so a host can run the checks before importing any plugin.
"""

from __future__ import annotations

from .allowlist import (
    ALLOWLIST_ENV,
    ENTRY_SYNTAX,
    GRANTS,
    SECRETS_GRANT,
    AllowEntry,
    AllowList,
    AllowListError,
    allow_list_from_env,
    normalize_name,
    parse_allow_list,
    parse_entry,
)
from .distributions import (
    Identity,
    identify,
    is_editable,
)
from .entry_points import (
    GroupEntryPoints,
    UnreadableEntryPoints,
    entry_point_module,
    group_entry_points,
    installed_plugin_distributions,
)
from .hooks import (
    SAFE_OPTIONS,
    CredentialsView,
    Principal,
    SecretWithheld,
    TrustSplit,
    call_by_trust,
    credentials_view,
    may_see_secrets,
    method_schema,
    public_fields,
    restricted_request,
    secret_fields,
    split_by_trust,
)
from .imports import GUARD, ImportPin, ImportRefused, PinnedImports, import_problem, pin_for
from .installed import (
    STRONG_HASHES,
    FileCheck,
    module_origin,
    pin_entry,
    record_digest,
    record_file,
    startup_files,
    verify_files,
)
from .verdicts import (
    ALLOWED,
    ALLOWLIST_MODE,
    BLOCKED,
    OPEN_MODE,
    REFUSED,
    Provenance,
    TrustReport,
    Verdict,
    judge,
    provenance_for,
)

__all__ = [
    "ALLOWED",
    "ALLOWLIST_ENV",
    "ALLOWLIST_MODE",
    "BLOCKED",
    "ENTRY_SYNTAX",
    "GRANTS",
    "GUARD",
    "OPEN_MODE",
    "REFUSED",
    "SAFE_OPTIONS",
    "SECRETS_GRANT",
    "STRONG_HASHES",
    "AllowEntry",
    "AllowList",
    "AllowListError",
    "CredentialsView",
    "FileCheck",
    "GroupEntryPoints",
    "Identity",
    "ImportPin",
    "ImportRefused",
    "PinnedImports",
    "Principal",
    "Provenance",
    "SecretWithheld",
    "TrustReport",
    "TrustSplit",
    "UnreadableEntryPoints",
    "Verdict",
    "allow_list_from_env",
    "call_by_trust",
    "credentials_view",
    "entry_point_module",
    "group_entry_points",
    "identify",
    "import_problem",
    "installed_plugin_distributions",
    "is_editable",
    "judge",
    "may_see_secrets",
    "method_schema",
    "module_origin",
    "normalize_name",
    "parse_allow_list",
    "parse_entry",
    "pin_entry",
    "pin_for",
    "provenance_for",
    "public_fields",
    "record_digest",
    "record_file",
    "restricted_request",
    "secret_fields",
    "split_by_trust",
    "startup_files",
    "verify_files",
]
