"""`get` under a parent that looks like the docker CLI, for the image hint's cost.

The helper reads its parent's /proc/<ppid>/cmdline, so the timed `get` must be the child of a
process whose argv is a docker command line. That parent is a long-lived Python process started
as `docker -c <its own code> pull IMAGE` (the docker CLI reads `-c` as `--context`): it spawns
and times each `get` exactly as Cmd.once() does (posix_spawn + wait4), one per request line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .timing import Cmd

# The parent's code: the command's argv, env and stdin come once, as JSON, on its first line;
# then each line "STDOUT\tSTDERR" runs the command once and answers "wall_ms cpu_ms status".
_SPAWNER = r"""
import json, os, sys, time
spec = json.loads(sys.stdin.readline())
for line in sys.stdin:
    out, err = line.rstrip("\n").split("\t")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, spec["stdin"], os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(spec["argv"][0], spec["argv"], spec["env"], file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    ms = (time.perf_counter_ns() - t0) / 1e6
    cpu = (usage.ru_utime + usage.ru_stime) * 1e3
    sys.stdout.write(f"{ms} {cpu} {os.waitstatus_to_exitcode(status)}\n")
    sys.stdout.flush()
"""


class DockerParentCmd(Cmd):
    """A Cmd run as the child of a process whose argv is `docker ... pull IMAGE`."""

    def __init__(self, key: str, label: str, cmd: Cmd, image: str, expect: str) -> None:
        super().__init__(key, label, cmd.argv, cmd.env, cmd.stdin, expect, cmd.kind)
        self.image = image
        self._parent: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        if self._parent is None or self._parent.poll() is not None:
            env = {**self.env, "PYTHONHOME": sys.base_prefix}  # argv[0] is no interpreter path
            self._parent = subprocess.Popen(
                ["docker", "-c", _SPAWNER, "pull", self.image],
                executable=sys.executable,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            assert self._parent.stdin is not None
            spec = {"argv": self.argv, "env": self.env, "stdin": self.stdin}
            self._parent.stdin.write(json.dumps(spec) + "\n")
            self._parent.stdin.flush()
        return self._parent

    def _request(self, stdout: str, stderr: str) -> tuple[float, float, int]:
        parent = self._start()
        assert parent.stdin is not None and parent.stdout is not None
        parent.stdin.write(f"{stdout}\t{stderr}\n")
        parent.stdin.flush()
        answer = parent.stdout.readline().split()
        if len(answer) != 3:
            return float("nan"), float("nan"), 127
        return float(answer[0]), float(answer[1]), int(answer[2])

    def once(self) -> tuple[float, float, int]:
        """One run under the docker-named parent: (wall ms, CPU ms, exit status)."""
        return self._request(os.devnull, os.devnull)

    def validate(self, tmp: str) -> bool:
        """Run once under the parent with output captured."""
        out, err = os.path.join(tmp, "check.out"), os.path.join(tmp, "check.err")
        _, _, code = self._request(out, err)
        with open(out, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        if code != 0 or (self.expect is not None and self.expect not in text):
            self.check = f"exit {code}, stdout {text.strip()[:120]!r}"
            return False
        return True

    def close(self) -> None:
        """End the parent process (closing its stdin ends its loop)."""
        if self._parent is not None:
            assert self._parent.stdin is not None
            self._parent.stdin.close()
            self._parent.wait(timeout=10)
            self._parent = None
