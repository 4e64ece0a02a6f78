"""``python -m readystack.helper``: the same executable as ``docker-credential-readystack``."""

import sys

from readystack.helper.cli import main

sys.exit(main())
