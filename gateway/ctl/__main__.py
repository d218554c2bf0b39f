"""``python -m gateway.ctl``: the same as ``copayctl``."""

import sys

from gateway.ctl import main

sys.exit(main())
