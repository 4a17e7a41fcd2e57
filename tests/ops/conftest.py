"""The web tests' fixtures (a site over every real registry file), for the operations routes."""

from tests.web.conftest import client, loaded_engine  # noqa: F401
