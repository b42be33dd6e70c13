from candidates.tests.support import fake_hooks, pipeline_role  # noqa: F401
