from nonconformance.tests.conftest import people  # noqa: F401
