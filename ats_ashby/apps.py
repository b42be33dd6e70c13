from django.apps import AppConfig


class AshbyConfig(AppConfig):
    name = "ats_ashby"
    verbose_name = "Ashby"

    def ready(self) -> None:
        from integrations.providers import register

        from .provider import AshbyProvider

        register(AshbyProvider())
