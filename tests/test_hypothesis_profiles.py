"""The Hypothesis profiles: a short derandomized default for every run, a long random one for CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from hypothesis_profiles import DEFAULT_EXAMPLES, FUZZ_EXAMPLES, PROFILE_ENV, examples, profile_settings

TESTS = Path(__file__).resolve().parent
pytest_plugins = ["pytester"]


def test_the_default_profile_is_short_and_derandomized() -> None:
    default = settings.get_profile("default")
    assert default.derandomize and default.max_examples == DEFAULT_EXAMPLES <= 300
    assert default.database is None and default.deadline is None


def test_the_fuzz_profile_is_long_and_random() -> None:
    fuzz = settings.get_profile("fuzz")
    assert not fuzz.derandomize and fuzz.max_examples == FUZZ_EXAMPLES >= 10 * DEFAULT_EXAMPLES
    assert fuzz.print_blob and fuzz.database is None and fuzz.deadline is None


def test_a_property_asks_for_a_share_of_the_loaded_profile() -> None:
    loaded = settings.default.max_examples
    assert examples() == loaded and examples(0.5) == round(loaded / 2)
    assert examples(0.0001) == 10  # never fewer than ten
    assert profile_settings(0.5).max_examples == examples(0.5)
    assert profile_settings().derandomize == settings.default.derandomize


@pytest.mark.parametrize(
    ("how", "expected"),
    [(("--hypothesis-profile=fuzz",), FUZZ_EXAMPLES), (("env",), FUZZ_EXAMPLES)],
    ids=["option", "environment"],
)
def test_the_profile_is_chosen_on_the_command_line_or_in_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: tuple[str, ...], expected: int
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # only Hypothesis's plugin and ours: a quick start
    if how == ("env",):
        monkeypatch.setenv(PROFILE_ENV, "fuzz")
        how = ()
    else:
        monkeypatch.delenv(PROFILE_ENV, raising=False)
    pytester.makepyfile(
        test_loaded=f"""
        from hypothesis import settings

        def test_loaded():
            assert settings.default.max_examples == {expected}
            assert not settings.default.derandomize
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "_hypothesis_pytestplugin", "-p", "hypothesis_profiles", "-p", "no:cacheprovider", "-q", *how
    )
    result.assert_outcomes(passed=1)
