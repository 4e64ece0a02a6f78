"""``python -m readystack.helper``: the same executable as ``docker-credential-readystack``."""

from readystack.helper.cli import run

run()
