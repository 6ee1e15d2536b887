"""The load benchmark's rounds (bench/loadtest/run.py): a round that other work on the machine
disturbed is left out of the median ratio, whichever server it slowed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench" / "loadtest"))

from run import Round, disturbed


def _round(minimal_us: float, service_us: float, minimal_rate: float, service_rate: float) -> Round:
    hops = 10_000  # CPU seconds chosen to give the µs per hop asked for
    return Round(
        minimal={"rate": minimal_rate, "requests": hops},
        service={"rate": service_rate, "requests": hops},
        minimal_cpu={"gunicorn": minimal_us * hops / 1e6},
        service_cpu={"gunicorn": service_us * hops / 1e6},
    )


def test_a_round_one_server_spent_far_more_cpu_in_is_left_out() -> None:
    rounds = [
        _round(616, 951, 2638, 1896),
        _round(945, 937, 1130, 1929),  # the minimal hop disturbed: ratio 1.71
        _round(662, 952, 2711, 1894),
        _round(642, 936, 2767, 1793),
        _round(657, 1300, 2711, 1200),  # the service disturbed
    ]
    found = disturbed(rounds)
    assert sorted(found) == [1, 4]
    assert "minimal hop at 945 µs" in found[1]
    assert "service at 1300 µs" in found[4]


def test_ordinary_drift_leaves_every_round_in() -> None:
    # The minimal hop drifting between 569 and 651 µs is the machine, not a disturbance.
    rounds = [
        _round(569, 926, 2953, 1871),
        _round(647, 933, 2716, 1947),
        _round(651, 933, 2644, 1949),
    ]
    assert disturbed(rounds) == {}
