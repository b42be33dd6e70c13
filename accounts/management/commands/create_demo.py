from django.core.management.base import BaseCommand

from accounts.models import Membership, Organization
from accounts.services import member_create

DEMO_SLUG = "demo"
DEMO_OWNER = "owner@demo.lavalier.test"
DEMO_RECRUITER = "recruiter@demo.lavalier.test"
# Fixed so that the logins printed by `make run` stay the same from run to run.
DEMO_PASSWORD = "lavalier-demo"


class Command(BaseCommand):
    help = "Create the demo organization with an Owner and a Recruiter (idempotent)."

    def handle(self, *args, **options):
        organization, _ = Organization.objects.get_or_create(
            slug=DEMO_SLUG, defaults={"name": "Demo Recruiting"}
        )
        for email, role in (
            (DEMO_OWNER, Membership.Role.OWNER),
            (DEMO_RECRUITER, Membership.Role.RECRUITER),
        ):
            if not Membership.objects.filter(user__username=email).exists():
                member_create(
                    organization=organization, email=email, role=role, password=DEMO_PASSWORD
                )
        self.stdout.write("Demo logins (organization 'demo'):")
        self.stdout.write(f"  Owner:     {DEMO_OWNER} / {DEMO_PASSWORD}")
        self.stdout.write(f"  Recruiter: {DEMO_RECRUITER} / {DEMO_PASSWORD}")
