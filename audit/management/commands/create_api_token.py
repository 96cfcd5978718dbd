"""python manage.py create_api_token USERNAME [--name NAME]: print a new API token once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from audit.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (it is stored only as a hash)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="A label for the token.")

    def handle(self, *args, username: str, name: str, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        _token, raw = ApiToken.objects.issue(user, name)
        self.stdout.write(raw)
