"""Bearer-token authentication for the django-ninja API (console/api.py)."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from audit.models import ApiToken


class BearerToken(HttpBearer):
    """`Authorization: Bearer slc_…`; the request then acts as the token's user (and role)."""

    openapi_description = "An API token from your user page or `manage.py create_api_token`."

    def authenticate(self, request: HttpRequest, token: str):
        found = ApiToken.objects.authenticate(token)
        if found is None:
            return None
        request.user = found.user
        return found.user
