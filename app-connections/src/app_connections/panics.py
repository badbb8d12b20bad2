"""Library panics: what a Rust extension raises when it gives up (pyo3's ``PanicException``).

A panic derives from ``BaseException``, so ``except Exception`` lets it through; an entry point that
hands user input to such a library (cryptography, say) catches it narrowly, by type name and
module, and answers with a typed error instead. ``KeyboardInterrupt``, ``SystemExit`` and
``GeneratorExit`` are never panics.
"""

from __future__ import annotations

PANIC_TYPES = frozenset({("pyo3_runtime", "PanicException")})
"""(module, name) of every exception type treated as a library panic."""


def is_library_panic(exc: BaseException) -> bool:
    """True when ``exc`` is a Rust extension's panic (pyo3's ``PanicException`` or a subclass)."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        return False
    return any((kind.__module__, kind.__name__) in PANIC_TYPES for kind in type(exc).__mro__)


def is_library_failure(exc: BaseException) -> bool:
    """True for what a library call on user input may raise: any ``Exception``, or a panic."""
    return isinstance(exc, Exception) or is_library_panic(exc)
