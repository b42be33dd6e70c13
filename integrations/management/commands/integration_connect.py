import sys

from django.core.management.base import BaseCommand, CommandError

from integrations.providers import ConnectError, all_providers
from integrations.services import integration_connect

from ._organization import organization_by_slug


class Command(BaseCommand):
    help = (
        "Connect an organization's ATS with a credential read from standard input, running "
        "the same checks and printing the same messages as the Connect dialog."
    )

    def add_arguments(self, parser):
        parser.add_argument("provider", choices=[p.slug for p in all_providers()])
        parser.add_argument("--org", required=True, help="Organization slug.")

    def handle(self, *args, provider, org, **options):
        organization = organization_by_slug(org)
        credential = sys.stdin.read()
        try:
            integration = integration_connect(
                organization=organization, actor=None, provider_slug=provider, credential=credential
            )
        except ConnectError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Connected {provider} for {organization.slug} (integration {integration.pk}). "
            "The first sync is queued."
        )
