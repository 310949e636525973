"""``python -m themeassist.cli``: the same as the ``themeassist`` command."""

import sys

from themeassist.cli import main

sys.exit(main())
