"""GeoReport v2 views (skeleton; the Open311 slice fills this in)."""

from django.http import HttpRequest, HttpResponse


def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    return HttpResponse(status=501)
