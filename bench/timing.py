"""Process timing: one command spawned and waited for, and paired alternating comparisons."""

from __future__ import annotations

import gc
import os
import statistics
import time

from . import read_text


class Cmd:
    """One whole-process command: argv, stdin file, environment; timed with posix_spawn+wait4."""

    def __init__(
        self,
        key: str,
        label: str,
        argv: list[str],
        env: dict[str, str],
        stdin: str | None = None,
        expect: str | None = None,
        kind: str = "",
    ) -> None:
        self.key, self.label, self.argv, self.env = key, label, argv, env
        self.stdin = stdin or os.devnull
        self.expect = expect  # a substring the stdout must contain
        self.kind = kind
        self.samples: list[float] = []
        self.cpu: list[float] = []
        self.rss: list[int] = []
        self.failures = 0
        self.check = ""

    def spawn(self, stdout: str = os.devnull, stderr: str = os.devnull) -> int:
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, self.stdin, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_OPEN, 2, stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        ]
        return os.posix_spawn(self.argv[0], self.argv, self.env, file_actions=actions)

    def once(self) -> tuple[float, float, int]:
        """One run: (wall ms, CPU ms of the child, exit status).

        CPU ms is ru_utime + ru_stime from wait4 (the kernel scales them to the task's precise
        runtime): unlike wall time it does not count waiting for a CPU on a loaded machine.
        """
        t0 = time.perf_counter_ns()
        try:
            pid = self.spawn()
        except OSError:  # the program went away (a rebuild, say): a failed run, not a crash
            return float("nan"), float("nan"), 127
        _, status, usage = os.wait4(pid, 0)
        ms = (time.perf_counter_ns() - t0) / 1e6
        cpu = (usage.ru_utime + usage.ru_stime) * 1e3
        return ms, cpu, os.waitstatus_to_exitcode(status)

    def validate(self, tmp: str) -> bool:
        """Run once with output captured; remember what went wrong, if anything."""
        out, err = os.path.join(tmp, "check.out"), os.path.join(tmp, "check.err")
        try:
            pid = self.spawn(out, err)
        except OSError as exc:
            self.check = f"cannot run {self.argv[0]}: {exc.strerror}"
            return False
        _, status, _ = os.wait4(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        text = read_text(out)
        if code != 0 or (self.expect is not None and self.expect not in text):
            errtext = read_text(err).strip()
            self.check = f"exit {code}, stdout {text.strip()[:120]!r}, stderr {errtext[:160]!r}"
            return False
        return True


class Pair:
    """A paired comparison: case A against baseline B, alternating order, ratio per pair."""

    def __init__(self, case: Cmd, base: Cmd) -> None:
        self.case, self.base = case, base
        self.a: list[float] = []
        self.b: list[float] = []
        self.ratios: list[float] = []
        self.a_cpu: list[float] = []
        self.b_cpu: list[float] = []
        self.cpu_ratios: list[float] = []
        self.failures = 0

    def run(self, pairs: int, warmup: int) -> None:
        gc.disable()
        try:
            for i in range(warmup + pairs):
                first, second = (self.case, self.base) if i % 2 == 0 else (self.base, self.case)
                r1, r2 = first.once(), second.once()
                ra, rb = (r1, r2) if first is self.case else (r2, r1)
                if i < warmup:
                    continue
                if ra[0] != ra[0] or rb[0] != rb[0]:  # a program could not be started
                    self.failures += 1
                    continue
                for cmd, (ms, cpu, code) in ((self.case, ra), (self.base, rb)):
                    cmd.samples.append(ms)
                    cmd.cpu.append(cpu)
                    if code != 0:
                        cmd.failures += 1
                self.failures += int(ra[2] != 0) + int(rb[2] != 0)
                self.a.append(ra[0])
                self.b.append(rb[0])
                self.ratios.append(ra[0] / rb[0])
                self.a_cpu.append(ra[1])
                self.b_cpu.append(rb[1])
                if rb[1] > 0:
                    self.cpu_ratios.append(ra[1] / rb[1])
        finally:
            gc.enable()

    @property
    def ratio(self) -> float:
        return med(self.ratios)

    @property
    def cpu_ratio(self) -> float:
        return med(self.cpu_ratios)

    def line(self) -> str:
        return (
            f"  {self.case.label:<42} {med(self.a):7.2f} ms  vs {self.base.label:<44} "
            f"{med(self.b):7.2f} ms  paired {self.ratio:5.2f}x  (CPU {med(self.a_cpu):6.2f} / "
            f"{med(self.b_cpu):6.2f} ms, {self.cpu_ratio:5.2f}x)"
            + (f"   ({self.failures} failed runs)" if self.failures else "")
        )


def med(values: list[float]) -> float:
    """The median, NaN for no values."""
    return statistics.median(values) if values else float("nan")
