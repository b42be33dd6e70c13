from django.core.management.base import BaseCommand, CommandError

from integrations.models import Integration, SyncRun
from integrations.services import integration_request_sync, integration_sync_run

from ._organization import organization_by_slug


class Command(BaseCommand):
    help = "Queue a sync of an organization's ATS, or run it here with --wait."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("--full", action="store_true", help="Read every list in full.")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="Run the sync in this process and exit when it ends (non-zero on failure).",
        )

    def handle(self, *args, org, full, wait, **options):
        organization = organization_by_slug(org)
        integration = Integration.objects.filter(organization=organization, is_active=True).first()
        if integration is None:
            raise CommandError(f"{organization.slug} has no connected ATS.")
        if not wait:
            integration_request_sync(organization=organization, actor=None, full=full)
            self.stdout.write(
                f"Sync queued for {organization.slug} (integration {integration.pk})."
            )
            return
        run = integration_sync_run(integration.pk, trigger=SyncRun.Trigger.COMMAND, full=full)
        if run is None:
            raise CommandError(
                "Another sync is running for this organization; try again when it ends."
            )
        self.stdout.write(f"Run {run.pk}: {run.get_outcome_display()}.")
        for entity, counts in sorted(run.counts.items()):
            self.stdout.write(f"  {entity}: {counts}")
        for note in run.notes:
            self.stdout.write(f"  note: {note}")
        if run.outcome != SyncRun.Outcome.SUCCESS:
            raise CommandError(run.error_message or "The sync did not succeed.")
