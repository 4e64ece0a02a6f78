"""Go's time.ParseDuration and Duration.String, in integer nanoseconds, against Go's own table."""

from __future__ import annotations

import pytest
from readystack.helper.lookup import goduration
from readystack.helper.lookup.goduration import HOUR, MICROSECOND, MILLISECOND, MINUTE, SECOND
from readystack.store import verberrors

MAX = (1 << 63) - 1

# Go's src/time/time_test.go parseDurationTests (the non-negative ones), plus the kubelet's.
PARSED = [
    ("0", 0),
    ("5s", 5 * SECOND),
    ("30s", 30 * SECOND),
    ("1478s", 1478 * SECOND),
    ("+5s", 5 * SECOND),
    ("+5m", 5 * MINUTE),
    ("-0", 0),
    ("+0", 0),
    ("5.0s", 5 * SECOND),
    ("5.6s", 5 * SECOND + 600 * MILLISECOND),
    ("5.s", 5 * SECOND),
    (".5s", 500 * MILLISECOND),
    ("1.0s", 1 * SECOND),
    ("1.00s", 1 * SECOND),
    ("1.004s", 1 * SECOND + 4 * MILLISECOND),
    ("1.0040s", 1 * SECOND + 4 * MILLISECOND),
    ("100.00100s", 100 * SECOND + 1 * MILLISECOND),
    ("10ns", 10),
    ("11us", 11 * MICROSECOND),
    ("12\u00b5s", 12 * MICROSECOND),  # U+00B5 micro sign
    ("12\u03bcs", 12 * MICROSECOND),  # U+03BC Greek mu
    ("1.1\u03bcs", 1100),
    ("13ms", 13 * MILLISECOND),
    ("14s", 14 * SECOND),
    ("15m", 15 * MINUTE),
    ("16h", 16 * HOUR),
    ("3h30m", 3 * HOUR + 30 * MINUTE),
    ("10.5s4m", 4 * MINUTE + 10 * SECOND + 500 * MILLISECOND),
    ("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6),
    ("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLISECOND),
    ("52763797000ns", 52763797000),
    ("0.3333333333333333333h", 20 * MINUTE),
    ("9007199254740993ns", (1 << 53) + 1),
    ("9223372036854775807ns", MAX),
    ("9223372036854775.807us", MAX),
    ("9223372036s854ms775us807ns", MAX),
    ("0.100000000000000000000h", 6 * MINUTE),
    ("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372539827),
    ("2400h0m0.000000001s", 2400 * HOUR + 1),  # 100 days and 1 ns: float seconds lose it
    ("2562047h47m16.854775807s", MAX),
    (" 6h ", 6 * HOUR),  # surrounding blanks (a YAML args list) are dropped
]


@pytest.mark.parametrize(("text", "ns"), PARSED)
def test_parse_gives_what_go_gives(text: str, ns: int) -> None:
    assert goduration.parse(text) == ns


# Go's durationTests (src/time/time_test.go) for Duration.String.
WRITTEN = [
    ("0s", 0),
    ("1ns", 1),
    ("1.1\u00b5s", 1100),
    ("2.2ms", 2200 * MICROSECOND),
    ("3.3s", 3300 * MILLISECOND),
    ("4m5s", 4 * MINUTE + 5 * SECOND),
    ("4m5.001s", 4 * MINUTE + 5001 * MILLISECOND),
    ("5h6m7.001s", 5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND),
    ("8m0.000000001s", 8 * MINUTE + 1),
    ("2562047h47m16.854775807s", MAX),
    ("-2562047h47m16.854775808s", -(1 << 63)),
    ("2400h0m0s", 2400 * HOUR),
    ("2400h0m0.000000001s", 2400 * HOUR + 1),
    ("1h30m0s", 90 * MINUTE),
    ("500ms", 500 * MILLISECOND),
]


@pytest.mark.parametrize(("text", "ns"), WRITTEN)
def test_string_writes_what_go_writes(text: str, ns: int) -> None:
    assert goduration.string(ns) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "3",
        "-",
        "s",
        ".",
        "-.",
        ".s",
        "+.s",
        "1d",
        "5x",
        "5M",
        "1h-5m",
        "1..5s",
        "5 m",
        "\ufffd",
    ],
)
def test_invalid_text_is_refused_as_invalid(text: str) -> None:
    with pytest.raises(verberrors.DurationError) as caught:
        goduration.parse(text)
    assert "duration" in str(caught.value) and "Go's form: 5m, 1h30m, 1.5h" in str(caught.value)
    assert "out of range" not in str(caught.value) and "negative" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "3000000h",
        "2562048h",
        "9223372037s",
        "9223372036854775808ns",
        "9223372036854775.808us",
        "9223372036854ms775us808ns",
        "99999999999999999999999ns",
    ],
)
def test_beyond_int64_nanoseconds_is_refused_as_out_of_range(text: str) -> None:
    with pytest.raises(verberrors.DurationError) as caught:
        goduration.parse(text)
    assert str(caught.value) == (
        f"duration {text!r} is out of range: Go's time.Duration holds at most "
        "2562047h47m16.854775807s (int64 nanoseconds)"
    )


@pytest.mark.parametrize("text", ["-5m", "-1ns", "-9223372036854775808ns", "-3000000h"])
def test_negative_is_refused_as_negative(text: str) -> None:
    with pytest.raises(verberrors.DurationError) as caught:
        goduration.parse(text)
    assert str(caught.value) == f"negative duration {text!r}: a cache duration is 0 or more"


@pytest.mark.parametrize(("text", "ns"), PARSED)
def test_what_is_written_reads_back_the_same(text: str, ns: int) -> None:
    assert goduration.parse(goduration.string(ns)) == ns
