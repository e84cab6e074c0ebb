"""Placeholder: the helper who owns this page replaces it (see the brief)."""

from django.http import HttpRequest, HttpResponse


def report_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)


def report_page(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)


def report_pdf(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)

