"""Which auth methods of a connection type need its instance settings (``azure-appconfig doctor``),
derived from each setting's ``required_by``. Not on the registration path."""

from __future__ import annotations

from app_connections.records import ConnectionType


def settings_needs(ctype: ConnectionType) -> tuple[list[str], list[str]]:
    """``(methods that need instance settings, methods that need none)``, in registration order,
    from each setting's ``required_by`` (the data), never a hard-coded list."""
    needing = {slug for setting in ctype.settings for slug in setting.required_by}
    slugs = list(ctype.methods)
    return [s for s in slugs if s in needing], [s for s in slugs if s not in needing]


def _and(slugs: list[str]) -> str:
    return slugs[0] if len(slugs) == 1 else ", ".join(slugs[:-1]) + " and " + slugs[-1]


def settings_needs_text(ctype: ConnectionType) -> str:
    """One sentence for ``azure-appconfig doctor``: which auth methods need the instance settings."""
    need, free = settings_needs(ctype)
    if not need:
        return f"No {ctype.name} auth method needs these settings."
    if not free:
        return f"Every {ctype.name} auth method needs these settings ({_and(need)})."
    text = (
        f"Only the {_and(need)} method{'s' if len(need) > 1 else ''} need{'' if len(need) > 1 else 's'} these settings"
    )
    return f"{text}; {_and(free)} need{'' if len(free) > 1 else 's'} none of them."
