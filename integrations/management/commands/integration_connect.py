import json
import sys

from django.core.management.base import BaseCommand, CommandError

from integrations.providers import ConnectError, all_providers, get_provider
from integrations.services import integration_connect

from ._organization import organization_by_slug


class Command(BaseCommand):
    help = (
        "Connect an organization's ATS with a credential read from standard input (the API "
        "key, or for providers with several inputs a JSON object of them), running the same "
        "checks and printing the same messages as the Connect dialog."
    )

    def add_arguments(self, parser):
        parser.add_argument("provider", choices=[p.slug for p in all_providers()])
        parser.add_argument("--org", required=True, help="Organization slug.")

    def handle(self, *args, provider, org, **options):
        organization = organization_by_slug(org)
        provider_obj = get_provider(provider)
        text = sys.stdin.read()
        fields = provider_obj.credential_fields
        if len(fields) == 1:
            values = {fields[0].name: text}
        else:
            try:
                values = json.loads(text)
            except ValueError:
                values = None
            if not isinstance(values, dict):
                names = ", ".join(f'"{field.name}"' for field in fields)
                raise CommandError(f"Standard input must be a JSON object with {names}.")
        try:
            credential = provider_obj.credential_from_fields(
                {key: str(value) for key, value in values.items()}
            )
            integration = integration_connect(
                organization=organization, actor=None, provider_slug=provider, credential=credential
            )
        except ConnectError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Connected {provider} for {organization.slug} (integration {integration.pk}). "
            "The first sync is queued."
        )
