"""The Endpoints pane's 24 h traffic cell: hourly BytesProcessed as a block sparkline plus the total."""

from __future__ import annotations

import datetime as dt

from vpce_console.aws.cloudwatch import hour_slot
from vpce_console.tui.render import SPARK_CHARS, bytes_cell_text, bytes_sparkline


def test_all_zero_hours_are_a_dot_run_not_a_floor() -> None:
    assert bytes_sparkline([0.0] * 24) == "·" * 8
    assert bytes_cell_text([0.0] * 24, 0.0) == "·" * 8 + "       0 B"


def test_one_spike_is_the_only_full_block_in_its_three_hour_cell() -> None:
    hours = [0.0] * 24
    hours[17] = 5 * 1024**3
    spark = bytes_sparkline(hours)
    assert len(spark) == 8
    assert spark == "▁" * 5 + "█" + "▁" * 2  # hours 15-17 share cell 5, oldest first
    assert bytes_sparkline(hours, width=12) == "▁" * 8 + "█" + "▁" * 3  # hours 16-17 at two hours a cell


def test_each_endpoint_is_scaled_to_its_own_peak() -> None:
    small = [1.0, 2.0, 4.0, 8.0]
    big = [v * 1e12 for v in small]
    assert bytes_sparkline(small) == bytes_sparkline(big) == "▁▂▄█"


def test_a_rising_day_uses_the_whole_ramp() -> None:
    spark = bytes_sparkline([float(h) for h in range(24)])
    assert len(spark) == 8
    assert spark[0] == SPARK_CHARS[0] and spark[-1] == SPARK_CHARS[-1]
    assert list(spark) == sorted(spark, key=SPARK_CHARS.index)


def test_fewer_than_24_points_give_one_cell_each_right_aligned_in_the_cell() -> None:
    assert bytes_sparkline([3.0, 0.0, 6.0]) == "▄▁█"
    cell = bytes_cell_text([3.0, 0.0, 6.0], 9.0 * 1024**3)
    assert cell == " " * 5 + "▄▁█    9.0 GB"
    # Totals line up with a full-length row and a three-digit total.
    assert len(cell) == len(bytes_cell_text([1.0] * 24, 123.4 * 1024**3)) == 18


def test_odd_lengths_are_grouped_evenly_and_the_width_is_honoured() -> None:
    assert len(bytes_sparkline([1.0] * 30)) == 8
    assert len(bytes_sparkline([1.0] * 24, width=12)) == 12
    assert bytes_sparkline([0.0, 0.0, 9.0, 9.0, 9.0], width=2) == "▁█"  # groups [0,0] and [9,9,9]


def test_the_cell_shows_the_total_and_says_when_metrics_are_missing() -> None:
    assert bytes_cell_text([], None) == "— no metrics"
    assert bytes_cell_text([], 2048.0) == "2.0 KB"
    hours = [0.0] * 23 + [7.3 * 1024**3]
    assert bytes_cell_text(hours, None) == "▁" * 7 + "█    7.3 GB"  # total from the series when not given


def test_hour_slots_follow_the_timestamp_not_the_order_cloudwatch_returns() -> None:
    start = dt.datetime(2026, 11, 27, 12, 1, tzinfo=dt.UTC)
    assert hour_slot(dt.datetime(2026, 11, 27, 12, 1, tzinfo=dt.UTC), start) == 0
    assert hour_slot(dt.datetime(2026, 11, 28, 11, 1, tzinfo=dt.UTC), start) == 23
    assert hour_slot(dt.datetime(2026, 11, 28, 12, 0), start) == 23  # naive is UTC
    assert hour_slot(dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC), start) == -1  # before the window
