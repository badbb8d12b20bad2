"""Hypothesis profiles of the suite: ``default`` for every run, ``fuzz`` for CI's one long run.

- ``default`` (the README's test command): derandomized, so every run tries the same inputs, and a
  few hundred examples at most per property (each property asks for a share of ``DEFAULT_EXAMPLES``
  through :func:`examples`). The inputs a property must see whatever the draw (valid ones, the
  edges) are explicit ``@example``s in the test, so a small budget never skips them.
- ``fuzz`` (``pytest --hypothesis-profile=fuzz``, or ``HYPOTHESIS_PROFILE=fuzz``): thousands of
  examples per property, random (not derandomized) so every run explores new inputs; a failure
  prints the blob that reproduces it (``@reproduce_failure``).

No deadline in either: a property bounds its own time per case where that is the point (the fuzz
suite asserts ``CASE_SECONDS``), and Hypothesis' per-example deadline only adds flakiness on a
loaded 2-core machine.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEFAULT_EXAMPLES = 100
FUZZ_EXAMPLES = 2000
PROFILE_ENV = "HYPOTHESIS_PROFILE"

settings.register_profile(
    "default",
    max_examples=DEFAULT_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,  # no state carried between runs: a run's result depends on the code alone
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile(
    "fuzz",
    settings.get_profile("default"),
    max_examples=FUZZ_EXAMPLES,
    derandomize=False,
    print_blob=True,
)
settings.load_profile(os.environ.get(PROFILE_ENV) or "default")


def examples(share: float = 1.0) -> int:
    """This property's number of examples: ``share`` of the loaded profile's ``max_examples`` (at least 10).

    Read when the test runs, so ``--hypothesis-profile`` (loaded after this module) is in force.
    """
    return max(10, round(settings.default.max_examples * share))


def profile_settings(share: float = 1.0) -> settings:
    """The loaded profile with this property's number of examples (:func:`examples`)."""
    return settings(settings.default, max_examples=examples(share))
