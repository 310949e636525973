"""The test suite (a package, so that `tests.test_x` imports resolve here and not to a `tests` package
that a dependency installs: ppi-python 0.2.3 ships one in site-packages)."""
