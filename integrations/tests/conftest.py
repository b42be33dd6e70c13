from ats_ashby.tests.conftest import connect_ashby, sandbox  # noqa: F401 - shared fixtures
