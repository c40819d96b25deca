"""``sla.calendar.zones.is_known_zone`` answers for one name what listing the
whole tz database answers (``known_zones``, from
``zoneinfo.available_timezones``): on this machine's database, and on a
database made here with the odd files a real one may hold; it lists the
database only for a name the database lacks, and then once."""

from __future__ import annotations

import os
import shutil
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import zones
from sla.calendar.zones import _found_alone, is_known_zone, known_zones

#: Names no walk of the database makes, and files of it that are no zone.
ODD_NAMES = [
    "",
    "/",
    "UTC/",
    "/UTC",
    "./UTC",
    "../UTC",
    "Europe/../Europe/Berlin",
    "Europe//Berlin",
    "Europe/./Berlin",
    "Europe",
    "posix/Europe/Berlin",
    "right/UTC",
    "posix",
    "right",
    "localtime",
    "posixrules",
    "zone.tab",
    "zone1970.tab",
    "iso3166.tab",
    "tzdata.zi",
    "leapseconds",
    "leap-seconds.list",
    "SECURITY",
    "europe/berlin",
    "Europe/Berlin ",
    "Moon/Base",
    "UTC\x00",
]


@pytest.fixture
def fresh() -> Iterator[None]:
    """No answer kept from before, and none kept after."""
    zones._FOUND.clear()
    known_zones.cache_clear()
    yield
    zones._FOUND.clear()
    known_zones.cache_clear()


def listing() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "posixrules"}


def test_every_name_of_this_machines_database_and_no_odd_one(fresh: None):
    listed = listing()
    assert len(listed) > 300
    for name in sorted(listed) + ODD_NAMES:
        assert _found_alone(name) == (name in listed), name


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="EuropeBrlin/_.-+0123456789UTCS ", max_size=20))
def test_any_name_reads_as_the_listing_reads_it(name: str):
    assert _found_alone(name) == (name in listing()), name


def test_the_database_is_listed_only_for_a_name_it_lacks_and_then_once(fresh: None, monkeypatch):
    listings: list[int] = []
    available = zoneinfo.available_timezones
    monkeypatch.setattr(zoneinfo, "available_timezones", lambda: listings.append(1) or available())
    assert all(is_known_zone(name) for name in ["Europe/Berlin", "UTC", "US/Eastern", "Europe/Berlin"])
    assert listings == []
    assert not is_known_zone("Moon/Base")
    assert not is_known_zone("Mars/Base")
    assert is_known_zone("Asia/Tokyo") and is_known_zone("Europe/Berlin")
    assert not is_known_zone("posix/Europe/Berlin")
    assert listings == [1]


def test_a_database_with_links_copies_and_files_that_are_no_zones(tmp_path: Path, fresh: None):
    # A database of our own on TZPATH: zone files at the top and nested,
    # a folder reached only through a link (the walk does not enter it), a
    # link to a zone file (listed), files that are no zones, the posix/
    # and right/ copies, and the localtime and posixrules files.
    berlin = next(
        (
            Path(root) / "Europe" / "Berlin"
            for root in zoneinfo.TZPATH
            if (Path(root) / "Europe" / "Berlin").is_file()
        ),
        None,
    )
    if berlin is None:
        pytest.skip("this machine has no tz database on TZPATH (zoneinfo reads tzdata's)")
    database = tmp_path / "zoneinfo"
    for name in [
        "Mine/Zone",
        "Deep/Er/Zone",
        "Top",
        "posix/Mine/Zone",
        "right/Top",
        "posixrules",
        "localtime",
    ]:
        (database / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(berlin, database / name)
    (database / "notes.tab").write_text("# not a zone file\n")
    (database / "Mine" / "Short").write_bytes(b"TZ")
    os.symlink(database / "Mine", database / "Linked")
    os.symlink(database / "Top", database / "TopLink")
    names = [
        "Mine/Zone",
        "Deep/Er/Zone",
        "Deep/Er",
        "Top",
        "TopLink",
        "Linked/Zone",
        "Linked",
        "notes.tab",
        "Mine/Short",
        "posix/Mine/Zone",
        "right/Top",
        "Europe/Berlin",  # not in this database: tzdata's, where that is installed
        *ODD_NAMES,
    ]
    zoneinfo.reset_tzpath(to=[str(database)])
    try:
        listed = frozenset(zoneinfo.available_timezones()) - {"localtime", "posixrules"}
        assert {"Mine/Zone", "Deep/Er/Zone", "Top", "TopLink"} <= listed
        assert not {"Linked/Zone", "notes.tab", "Mine/Short", "posix/Mine/Zone"} & listed
        for name in names:
            assert _found_alone(name) == (name in listed), name
    finally:
        zoneinfo.reset_tzpath()
