"""Calendar speed: `sla` against businesstimedelta and a bare bisect.

One process, one set of random queries for everybody:

* 100,000 (start, end) pairs of whole-second UTC instants in 2024..2027, the
  span log-uniform from 1 second to 90 days, for ``elapsed``;
* the same starts with a business duration log-uniform from 1 second to 500
  hours, for ``add``.

The calendar is the usual one: Europe/Berlin, Monday to Friday 09:00-12:00
and 13:00-17:00, German public holidays from the ``holidays`` package.

Contenders:

* ``sla``: ``Calendar.elapsed(a, b) -> timedelta`` / ``Calendar.add(t, d)``.
* ``businesstimedelta``: ``Rules([WorkDayRule, LunchTimeRule, HolidayRule])``,
  ``rules.difference(a, b)`` / ``a + BusinessTimeDelta(rules, seconds=d)``,
  the library's documented usage.  It walks business periods one by one, so
  it is timed on an evenly spaced subsample (``--btd-pairs``) of the same
  pairs.
* ``bare bisect``: the yardstick, the least a Python implementation can do:
  a bisect over precomputed epoch-microsecond interval starts with
  cumulative open time, datetimes in and a timedelta out like ours, no
  checks, no index growth, everything inlined.

Each timing is the median of ``--runs`` runs (default 3) after one untimed
warm-up pass (which lets `sla` build its index and the holidays package
load its years).  Run it as::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/bench_calendar.py

It exits non-zero when a target is missed: `sla` elapsed at least 500x
businesstimedelta and at least 0.5x the bare bisect.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import subprocess
import sys
import time as clock
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta

import holidays

from sla import Calendar

UTC = UTC
ZONE = "Europe/Berlin"
SHIFTS = ((9, 12), (13, 17))
SLA_CALENDAR = {
    "timezone": ZONE,
    "hours": {"mon-fri": ["09:00-12:00", "13:00-17:00"]},
    "holidays": {"country": "DE"},
}
FIRST = datetime(2024, 1, 1, tzinfo=UTC)
LAST = datetime(2028, 1, 1, tzinfo=UTC)

ELAPSED_TARGET_VS_BTD = 500.0
ELAPSED_TARGET_VS_BISECT = 0.5


# ------------------------------------------------------------------ inputs
def make_queries(n: int, seed: int):
    rng = random.Random(seed)
    window = int((LAST - FIRST).total_seconds()) - 90 * 86400
    pairs, adds = [], []
    for _ in range(n):
        a = FIRST + timedelta(seconds=rng.randrange(window))
        span = round(math.exp(rng.uniform(0.0, math.log(90 * 86400))))
        pairs.append((a, a + timedelta(seconds=span)))
        business = round(math.exp(rng.uniform(0.0, math.log(500 * 3600))))
        adds.append((a, timedelta(seconds=business)))
    return pairs, adds


# --------------------------------------------------------------- contenders
def make_businesstimedelta():
    import businesstimedelta as btd
    import pytz

    tz = pytz.timezone(ZONE)
    rules = btd.Rules(
        [
            btd.WorkDayRule(start_time=time(9), end_time=time(17), working_days=[0, 1, 2, 3, 4], tz=tz),
            btd.LunchTimeRule(start_time=time(12), end_time=time(13), working_days=[0, 1, 2, 3, 4], tz=tz),
            btd.HolidayRule(holidays.country_holidays("DE"), tz=tz),
        ]
    )

    def elapsed(a, b):
        return rules.difference(a, b).timedelta

    def add(t, d):
        return t + btd.BusinessTimeDelta(rules, timedelta=d)

    return elapsed, add


def make_bare_bisect():
    """Epoch-microsecond intervals for 2023..2029, built directly with zoneinfo.

    As fast as plain Python gets: integer microseconds (exact, like ours),
    the cheapest datetime <-> integer conversions, no checks at all.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(ZONE)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    one = timedelta(microseconds=1)
    closed = holidays.country_holidays("DE", years=range(2023, 2030))
    starts, ends, cum, cum_end = [], [], [], []
    total = 0
    day = date(2023, 1, 1)
    while day < date(2030, 1, 1):
        if day.weekday() < 5 and day not in closed:
            for open_h, close_h in SHIFTS:
                s = (datetime.combine(day, time(open_h), zone) - epoch) // one
                e = (datetime.combine(day, time(close_h), zone) - epoch) // one
                starts.append(s)
                ends.append(e)
                cum.append(total)
                total += e - s
                cum_end.append(total)
        day += timedelta(days=1)

    def elapsed(a, b, starts=starts, ends=ends, cum=cum, bisect=bisect_right, epoch=epoch, one=one):
        x = (a - epoch) // one
        i = bisect(starts, x) - 1
        e = ends[i]
        cx = cum[i] + (x if x < e else e) - starts[i]
        y = (b - epoch) // one
        j = bisect(starts, y) - 1
        e = ends[j]
        return one * (cum[j] + (y if y < e else e) - starts[j] - cx)

    def add(t, d, starts=starts, ends=ends, cum=cum, cum_end=cum_end, epoch=epoch, one=one):
        x = (t - epoch) // one
        i = bisect_right(starts, x) - 1
        e = ends[i]
        target = cum[i] + (x if x < e else e) - starts[i] + d // one
        k = bisect_left(cum_end, target)
        return epoch + one * (starts[k] + target - cum[k])

    return elapsed, add


def make_sla():
    cal = Calendar.from_dict(SLA_CALENDAR, name="berlin")
    return cal.elapsed, cal.add


# ------------------------------------------------------------------ timing
def time_run(fn, queries) -> float:
    start = clock.perf_counter()
    for x, y in queries:
        fn(x, y)
    return clock.perf_counter() - start


def median_rate(fn, queries, runs: int) -> float:
    time_run(fn, queries)  # warm-up: index building, holiday years
    return len(queries) / statistics.median(time_run(fn, queries) for _ in range(runs))


def machine() -> str:
    model = "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    import os

    return f"{model}, {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--btd-pairs", type=int, default=1_000, help="subsample for businesstimedelta")
    parser.add_argument("--check-pairs", type=int, default=2_000, help="sample for the agreement check")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260302)
    args = parser.parse_args(argv)

    pairs, adds = make_queries(args.pairs, args.seed)
    step = max(1, args.pairs // args.btd_pairs)
    btd_pairs, btd_adds = pairs[::step][: args.btd_pairs], adds[::step][: args.btd_pairs]

    sla_elapsed, sla_add = make_sla()
    bare_elapsed, bare_add = make_bare_bisect()
    try:
        btd_elapsed, btd_add = make_businesstimedelta()
    except ImportError:
        print("businesstimedelta is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    # ------------------------------------------------------------ agreement
    check_step = max(1, args.pairs // args.check_pairs)
    sample = list(range(0, args.pairs, check_step))[: args.check_pairs]
    disagree_elapsed = [i for i in sample if sla_elapsed(*pairs[i]) != btd_elapsed(*pairs[i])]
    disagree_add = [i for i in sample if sla_add(*adds[i]) != btd_add(*adds[i])]
    disagree_bare = [
        i
        for i in range(args.pairs)
        if sla_elapsed(*pairs[i]) != bare_elapsed(*pairs[i]) or sla_add(*adds[i]) != bare_add(*adds[i])
    ]

    # --------------------------------------------------------------- speed
    rates = {
        ("sla", "elapsed"): median_rate(sla_elapsed, pairs, args.runs),
        ("sla", "add"): median_rate(sla_add, adds, args.runs),
        ("bare bisect", "elapsed"): median_rate(bare_elapsed, pairs, args.runs),
        ("bare bisect", "add"): median_rate(bare_add, adds, args.runs),
        ("businesstimedelta", "elapsed"): median_rate(btd_elapsed, btd_pairs, args.runs),
        ("businesstimedelta", "add"): median_rate(btd_add, btd_adds, args.runs),
    }

    print(f"calendar benchmark, {datetime.now(UTC):%Y-%m-%d}, {machine()}")
    print(
        f"{args.pairs:,} queries (businesstimedelta: every {step}th, {len(btd_pairs):,}); "
        f"median of {args.runs} runs\n"
    )
    print(f"{'':20s} {'elapsed ops/s':>14s} {'add ops/s':>14s}")
    for who in ("sla", "bare bisect", "businesstimedelta"):
        print(f"{who:20s} {rates[(who, 'elapsed')]:14,.0f} {rates[(who, 'add')]:14,.0f}")
    print()
    ratios = {}
    for op in ("elapsed", "add"):
        ratios[("btd", op)] = rates[("sla", op)] / rates[("businesstimedelta", op)]
        ratios[("bare", op)] = rates[("sla", op)] / rates[("bare bisect", op)]
    print(f"{'ratio':20s} {'elapsed':>14s} {'add':>14s}")
    print(f"{'sla / btd':20s} {ratios[('btd', 'elapsed')]:13,.0f}x {ratios[('btd', 'add')]:13,.0f}x")
    print(f"{'sla / bare bisect':20s} {ratios[('bare', 'elapsed')]:13.2f}x {ratios[('bare', 'add')]:13.2f}x")
    print()
    print(
        f"agreement with businesstimedelta on {len(sample):,} queries: "
        f"elapsed {len(sample) - len(disagree_elapsed):,} equal, add {len(sample) - len(disagree_add):,} equal"
    )
    for i in disagree_elapsed[:5]:
        print(f"  elapsed{pairs[i]}: sla {sla_elapsed(*pairs[i])}, btd {btd_elapsed(*pairs[i])}")
    for i in disagree_add[:5]:
        print(f"  add{adds[i]}: sla {sla_add(*adds[i])}, btd {btd_add(*adds[i])}")
    print(
        f"agreement with the bare bisect on all {args.pairs:,} queries: {args.pairs - len(disagree_bare):,} equal"
    )

    ok = (
        ratios[("btd", "elapsed")] >= ELAPSED_TARGET_VS_BTD
        and ratios[("bare", "elapsed")] >= ELAPSED_TARGET_VS_BISECT
    )
    print(
        f"\ntargets (elapsed >= {ELAPSED_TARGET_VS_BTD:.0f}x btd, >= {ELAPSED_TARGET_VS_BISECT}x bare bisect): "
        f"{'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
