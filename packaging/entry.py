"""Frozen entry point of docker-credential-readystack (PyInstaller runs this as __main__).

The same entry as the console script: `run` answers, then skips interpreter teardown for the
read-only verbs Docker calls on every pull (see helper/cli.py).
"""

from readystack.helper.cli import run

run()
