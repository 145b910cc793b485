"""`python -m overt_camera` is `overt-camera`."""

import sys

from .cli import main

sys.exit(main())
