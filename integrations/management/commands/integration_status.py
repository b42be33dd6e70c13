import json

from django.core.management.base import BaseCommand

from integrations.selectors import integration_status

from ._organization import organization_by_slug


class Command(BaseCommand):
    help = "Print an organization's ATS connection state and what recruiters see."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, org, **options):
        status = integration_status(organization_by_slug(org))
        if options["json"]:
            self.stdout.write(_dumps(status))
            return
        self.stdout.write(f"Provider: {status['provider'] or 'none'}")
        self.stdout.write(f"State: {status['state']}")
        self.stdout.write(f"Last synced: {status['last_synced_at'] or 'never'}")
        for name, count in status["counts"].items():
            self.stdout.write(f"{name.capitalize()}: {count}")


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True)
