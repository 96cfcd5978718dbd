"""What each role sees on the sources pages: buttons, read-only settings, no side effects.

The status code of every URL for every role (anonymous included) is checked by the permission
matrix, tests/console/test_permission_matrix.py; these tests check what the pages show and that
a refused change changes nothing.
"""

import pytest
from django.urls import reverse

from sources.models import VerificationRun
from tests.sources.conftest import TELEPORT

pytestmark = pytest.mark.django_db


def read_pages(source) -> list[str]:
    run = VerificationRun.objects.create(source=source, transport="s3", config=source.config)
    return [
        reverse("sources:list"),
        reverse("sources:detail", args=[source.pk]),
        reverse("sources:health", args=[source.pk]),
        reverse("sources:settings", args=[source.pk]),
        reverse("sources:history", args=[source.pk]),
        reverse("sources:template", args=[source.pk, "main.tf"]),
        reverse("sources:template", args=[source.pk, "cloudformation.yml"]),
        reverse("sources:verification", args=[run.pk]),
    ]


def admin_get_pages() -> list[str]:
    return [
        reverse("sources:new"),
        reverse("sources:new_overview", args=[TELEPORT]),
        reverse("sources:new_configure", args=[TELEPORT, "s3"]),
        reverse("sources:new_configure", args=[TELEPORT, "sqs"]),
    ]


def admin_post_pages(source) -> list[str]:
    return [
        reverse("sources:verify", args=[source.pk]),
        reverse("sources:pause", args=[source.pk]),
        reverse("sources:delete", args=[source.pk]),
        reverse("sources:settings", args=[source.pk]),
        reverse("sources:validate_field", args=["s3"]),
        reverse("sources:new_configure", args=[TELEPORT, "s3"]),
    ]


def test_viewers_see_sources_but_no_buttons_to_change_them(viewer_client, source):
    for url in read_pages(source):
        assert viewer_client.get(url).status_code == 200, url
    listing = viewer_client.get(reverse("sources:list")).content.decode()
    assert "teleport-prod" in listing
    assert "Create New" not in listing
    page = viewer_client.get(reverse("sources:detail", args=[source.pk])).content.decode()
    assert "Pause" not in page
    assert "Delete" not in page
    settings_page = viewer_client.get(
        reverse("sources:settings", args=[source.pk])
    ).content.decode()
    assert "Only source admins can change settings." in settings_page
    assert 'name="bucket"' not in settings_page


def test_viewers_get_403_on_every_change(viewer_client, source):
    for url in [*admin_get_pages(), reverse("sources:delete", args=[source.pk])]:
        response = viewer_client.get(url)
        assert response.status_code == 403, url
        assert "Source admins" in response.content.decode()
    for url in admin_post_pages(source):
        assert viewer_client.post(url, {"confirm_name": source.name}).status_code == 403, url
    source.refresh_from_db()
    assert not source.paused
    assert not VerificationRun.objects.filter(source=source, created_by__isnull=False).exists()


@pytest.mark.parametrize("who", ["staff", "group"])
def test_staff_and_source_admins_get_every_page(client, admin_user, source_admin, source, who):
    client.force_login(admin_user if who == "staff" else source_admin)
    for url in [
        *read_pages(source),
        *admin_get_pages(),
        reverse("sources:delete", args=[source.pk]),
    ]:
        assert client.get(url).status_code == 200, url
    assert "Create New" in client.get(reverse("sources:list")).content.decode()
    page = client.get(reverse("sources:settings", args=[source.pk])).content.decode()
    assert 'name="bucket"' in page


def test_unknown_log_type_or_transport_is_404(admin_client):
    assert admin_client.get(reverse("sources:new_overview", args=["No.Such"])).status_code == 404
    url = reverse("sources:new_configure", args=[TELEPORT, "ftp"])
    assert admin_client.get(url).status_code == 404


def test_the_user_page_is_for_signed_in_users_of_any_role(client, viewer, admin_user):
    assert client.get(reverse("account")).status_code == 302
    client.force_login(viewer)
    page = client.get(reverse("account")).content.decode()
    assert "<strong>viewer</strong>" in page
    client.force_login(admin_user)
    assert "<strong>source admin</strong>" in client.get(reverse("account")).content.decode()
