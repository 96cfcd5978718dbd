import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_first_start_creates_an_admin_and_prints_the_password_once(capsys):
    call_command("ensure_admin")
    first = capsys.readouterr().out
    password = first.split("Password: ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password(password)

    call_command("ensure_admin")
    assert capsys.readouterr().out == ""
