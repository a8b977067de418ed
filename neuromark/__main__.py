"""``python -m neuromark``: the ``neuromark`` command."""

import sys

from .cli import main

sys.exit(main())
