"""Go's time.Duration as text, in integer nanoseconds: ParseDuration and Duration.String.

Copied in behaviour from Go's src/time/format.go (ParseDuration, leadingInt, leadingFraction,
unitMap) and src/time/time.go (Duration.String, fmtFrac, fmtInt), so that the kubelet, which
decodes `cacheDuration` with metav1.Duration (time.ParseDuration), reads back exactly the value
written. Go works in uint64 and float64; Python's int and float give the same results when the
same overflow checks and the same float expression are applied.
"""

from __future__ import annotations

from readystack.store.errors import Internal
from readystack.store.verberrors import DurationError

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
MAX = (1 << 63) - 1  # int64: 2562047h47m16.854775807s

# Go's unitMap: both micro signs, U+00B5 (micro sign) and U+03BC (Greek mu).
UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,
    "\u03bcs": MICROSECOND,
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}
FORM = "Go's form: 5m, 1h30m, 1.5h; units ns, us, µs, ms, s, m, h"


class _Overflow(Internal):
    """The value left uint64/int64 where Go's ParseDuration reports it as invalid."""


def _leading_int(s: str) -> tuple[int, str]:
    """Go's leadingInt: the leading [0-9]* as uint64, refusing past 1<<63."""
    x, i = 0, 0
    while i < len(s) and "0" <= s[i] <= "9":
        if x > (1 << 63) // 10:
            raise _Overflow
        x = x * 10 + ord(s[i]) - 48
        if x > 1 << 63:
            raise _Overflow
        i += 1
    return x, s[i:]


def _leading_fraction(s: str) -> tuple[int, float, str]:
    """Go's leadingFraction: digits after the point; past uint64 precision it stops adding."""
    x, scale, i, overflow = 0, 1.0, 0, False
    while i < len(s) and "0" <= s[i] <= "9":
        if not overflow:
            y = x * 10 + ord(s[i]) - 48
            if x > ((1 << 63) - 1) // 10 or y > 1 << 63:
                overflow = True
            else:
                x, scale = y, scale * 10
        i += 1
    return x, scale, s[i:]


def _component(s: str, text: str) -> tuple[int, str]:
    """One ``number[.fraction]unit`` of ``s``: (its nanoseconds as uint64, the rest)."""
    invalid = DurationError(f"invalid duration {text!r} ({FORM})")
    if not (s[0] == "." or "0" <= s[0] <= "9"):
        raise invalid
    before = len(s)
    v, s = _leading_int(s)
    pre = len(s) != before
    f, scale, post = 0, 1.0, False
    if s and s[0] == ".":
        s = s[1:]
        before = len(s)
        f, scale, s = _leading_fraction(s)
        post = len(s) != before
    if not pre and not post:
        raise invalid
    i = 0
    while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
        i += 1
    unit_text, s = s[:i], s[i:]
    if not unit_text:
        raise DurationError(f"missing unit in duration {text!r} ({FORM})")
    unit = UNITS.get(unit_text)
    if unit is None:
        raise DurationError(f"unknown unit {unit_text!r} in duration {text!r} ({FORM})")
    if v > (1 << 63) // unit:
        raise _Overflow
    v *= unit
    if f > 0:
        # Go: v += uint64(float64(f) * (float64(unit) / scale)); float64 is Python's float.
        v += int(float(f) * (float(unit) / scale))
        if v > 1 << 63:
            raise _Overflow
    return v, s


def parse(text: str) -> int:
    """Nanoseconds of a Go duration string, refusing negative or out-of-int64 values."""
    s = text.strip()
    negative = s[:1] == "-"
    if s[:1] in ("-", "+"):
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise DurationError(f"invalid duration {text!r} ({FORM})")
    try:
        total = 0
        while s:
            v, s = _component(s, text)
            total += v
            if total > MAX + 1:  # Go: d > 1<<63
                raise _Overflow
    except _Overflow:
        total = MAX + 1
    if negative and total:
        raise DurationError(f"negative duration {text!r}: a cache duration is 0 or more")
    if total > MAX:
        raise DurationError(
            f"duration {text!r} is out of range: Go's time.Duration holds at most "
            f"{string(MAX)} (int64 nanoseconds)"
        )
    return total


def _frac(value: int, prec: int) -> tuple[str, int]:
    """Go's fmtFrac: the fraction of value/10**prec without trailing zeros, and value/10**prec."""
    digits = ""
    printing = False
    for _ in range(prec):
        value, digit = divmod(value, 10)
        printing = printing or digit != 0
        if printing:
            digits = str(digit) + digits
    return ("." + digits if printing else ""), value


def string(ns: int) -> str:
    """``ns`` as Go's Duration.String writes it: ``1h30m0s``, ``1.5s``, ``500ms``, ``0s``."""
    sign, u = ("-", -ns) if ns < 0 else ("", ns)
    if u < SECOND:
        # Under a second Go uses smaller units, like 1.2ms; the micro sign is U+00B5.
        if u == 0:
            return "0s"
        unit, prec = ("ns", 0) if u < MICROSECOND else ("µs", 3) if u < MILLISECOND else ("ms", 6)
        frac, whole = _frac(u, prec)
        return f"{sign}{whole}{frac}{unit}"
    frac, u = _frac(u, 9)
    out = f"{u % 60}{frac}s"
    u //= 60
    if u:
        out = f"{u % 60}m{out}"
        u //= 60
        if u:
            out = f"{u}h{out}"
    return sign + out
