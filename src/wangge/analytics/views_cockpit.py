"""Placeholder: the helper who owns this page replaces it (see the brief)."""

from django.http import HttpRequest, HttpResponse


def cockpit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)


def cockpit_data(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)

