from django.apps import AppConfig


class GreenhouseConfig(AppConfig):
    name = "ats_greenhouse"
    verbose_name = "Greenhouse"

    def ready(self) -> None:
        from integrations.providers import register

        from .provider import GreenhouseProvider

        register(GreenhouseProvider())
