import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.services import organization_create


class Command(BaseCommand):
    help = "Create an organization and its first Owner, and print the Owner's password."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="URL-safe identifier, such as acme.")
        parser.add_argument("owner_email", help="Email address the Owner signs in with.")
        parser.add_argument("--name", default="", help="Display name; defaults to the slug.")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the Owner's password from standard input instead of generating one.",
        )

    def handle(self, *args, slug, owner_email, name, password_stdin, **options):
        password = None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
        try:
            organization, membership, password = organization_create(
                slug=slug, owner_email=owner_email, name=name, owner_password=password
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created organization {organization.slug} (id {organization.pk}).")
        self.stdout.write(f"Owner: {membership.user.username}")
        if not password_stdin:
            self.stdout.write(f"Password: {password}")
