from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        from lavalier import sync_hooks

        from .hooks import IntegrationHooks

        sync_hooks.install(IntegrationHooks())
