from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Connects the login-failure counter to django.contrib.auth's signals.
        from . import ratelimit  # noqa: F401
