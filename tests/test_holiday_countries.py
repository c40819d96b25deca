"""sla.calendar.countries: the holidays package's countries, one module at a time,
with the package's own answers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import holidays
import pytest

from sla.calendar.countries import country_entity, country_holidays, subdivisions, supported_countries


def test_codes_are_the_packages_in_its_order():
    assert supported_countries() == tuple(holidays.list_supported_countries())


def test_subdivisions_are_the_packages():
    listed = holidays.list_supported_countries()
    for code in supported_countries():
        assert subdivisions(code) == [str(s) for s in listed[code]], code


@pytest.mark.parametrize(
    ("code", "subdiv", "categories"),
    [
        ("DE", "BE", None),
        ("DE", None, None),
        ("US", "CA", None),
        ("USA", None, None),
        ("UK", "SCT", None),
        ("SG", None, None),
        ("AS", None, None),  # American Samoa builds on the United States' module
        ("PR", None, None),
        ("JP", None, None),
        ("AU", "NSW", ("public", "bank")),
        ("NL", None, ("public", "optional")),
    ],
)
def test_holidays_are_the_packages(code, subdiv, categories):
    for years in (2026, [2019, 2020, 2021], range(2030, 2033)):
        ours = country_holidays(code, subdiv=subdiv, years=years, categories=categories)
        theirs = holidays.country_holidays(code, subdiv=subdiv, years=years, categories=categories)
        assert dict(ours) == dict(theirs)


def test_every_name_the_package_answers_to_gives_its_class():
    from holidays.registry import COUNTRIES

    for names in list(COUNTRIES.values())[::25]:
        for name in names:
            assert country_entity(name).__name__ == getattr(holidays, name).__name__ == name
    assert dict(country_holidays("Germany", years=2026)) == dict(
        holidays.country_holidays("Germany", years=2026)
    )


def test_unknown_country_is_refused_as_the_package_does():
    for code in ("XX", "de", "germany"):
        with pytest.raises(NotImplementedError, match=f"Country {code} not available"):
            country_entity(code)
        with pytest.raises(NotImplementedError, match=f"Country {code} not available"):
            holidays.country_holidays(code)
    with pytest.raises(NotImplementedError, match="Country  not available"):
        country_entity("")


def test_unknown_subdivision_is_refused_as_the_package_does():
    with pytest.raises(NotImplementedError) as ours:
        country_holidays("DE", subdiv="XX", years=2026)
    with pytest.raises(NotImplementedError) as theirs:
        holidays.country_holidays("DE", subdiv="XX", years=2026)
    assert str(ours.value) == str(theirs.value)


def _fresh(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_one_country_loads_without_the_other_249():
    out = _fresh(
        """
        import sys
        from sla.calendar.countries import country_holidays
        found = country_holidays("DE", subdiv="BE", years=2026)
        loaded = sorted(m for m in sys.modules if m.startswith("holidays.countries"))
        print(len(found), "holidays.countries" in sys.modules, loaded)
        """
    )
    assert out == "10 False []"


def test_the_package_imports_as_usual_afterwards():
    out = _fresh(
        """
        import datetime
        from sla.calendar.countries import country_entity, country_holidays
        ours = country_entity("DE")
        import holidays.countries.germany
        from holidays.countries import Germany
        again = country_holidays("FR", years=2026)
        print(Germany.__name__, holidays.countries.germany.Germany is Germany,
              ours is not Germany, datetime.date(2026, 7, 14) in again,
              country_entity("FR") is holidays.countries.FR)
        """
    )
    # after the package is imported, countries come from its modules
    assert out == "Germany True True True True"


def test_a_package_laid_out_otherwise_falls_back_to_its_own_import(monkeypatch, tmp_path):
    # no countries/<module>.py where this version keeps them: the package's own import
    import sla.calendar.countries as countries

    monkeypatch.setattr(countries, "_LOADED", {})
    monkeypatch.setattr(holidays, "__file__", str(tmp_path / "__init__.py"))
    monkeypatch.delitem(sys.modules, "holidays.countries", raising=False)
    monkeypatch.delitem(sys.modules, "holidays.countries.new_zealand", raising=False)
    assert countries._load_alone("new_zealand") is None
    entity = country_entity("NZ")
    assert entity is sys.modules["holidays.countries.new_zealand"].NZ
    assert dict(country_holidays("NZ", years=2026)) == dict(holidays.country_holidays("NZ", years=2026))


def test_a_country_loaded_alone_stays_out_of_sys_modules():
    import sla.calendar.countries as countries

    before = sys.modules.get("holidays.countries.germany")
    alone = countries._load_alone("germany")
    assert alone is not None and alone.Germany.__name__ == "Germany"
    assert sys.modules.get("holidays.countries.germany") is before
    assert dict(alone.DE(years=2026)) == dict(holidays.country_holidays("DE", years=2026))
