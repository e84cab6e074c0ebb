"""Placeholder: the helper who owns this page replaces it (see the brief)."""

from django.http import HttpRequest, HttpResponse


def index(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)


def cases_csv(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)

