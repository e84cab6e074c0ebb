"""Placeholder: the helper who owns this page replaces it (see the brief)."""

from django.http import HttpRequest, HttpResponse


def metrics_page(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)


def rankings_page(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)

