"""Limits at the door: a request body is refused by its declared size before anything reads
it, and an uploaded file stops being read the moment it passes the photo limit. The API
answers in its own error shape (413 with `detail[{loc, msg, code}]`); pages get plain text.

Sizes (settings): WANGGE_MAX_BODY_BYTES for a body that is not a file upload (JSON, forms),
and for multipart uploads WANGGE_PHOTO_MAX_BYTES per file and
WANGGE_PHOTOS_PER_STAGE photos plus WANGGE_MAX_BODY_BYTES of fields per request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _

API_PREFIX = "/api/"
_PAGE_TEXT = {
    "too_large": _("提交的内容过大（照片每张最多 %(photo)s，表单最多 %(body)s）。请返回重试。"),
    "photo_too_large": _("照片过大（每张最多 %(photo)s）。请返回，换一张较小的照片。"),
    "bad_length": _("请求无效。"),
    "too_many_fields": _("表单字段过多。"),
    "bad_multipart": _("上传的内容无法读取，请返回重试。"),
}


class UploadTooLarge(Exception):
    """One uploaded file passed the per-file limit while it was being received."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def body_limit() -> int:
    return settings.WANGGE_MAX_BODY_BYTES


def upload_limit() -> int:
    return (settings.WANGGE_PHOTO_MAX_BYTES * settings.WANGGE_PHOTOS_PER_STAGE
            + settings.WANGGE_MAX_BODY_BYTES)


def _refuse(request: HttpRequest, status: int, field: str, code: str, msg: str) -> HttpResponse:
    """The API's error shape; a page gets the same words, translated, as plain text. The
    answer carries its length, so a client reads it without waiting for the connection."""
    response: HttpResponse
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(
            {"detail": [{"loc": ["body", field], "msg": msg, "code": code}]}, status=status)
    else:
        text = str(_PAGE_TEXT.get(code, msg)) % {"photo": _mb(settings.WANGGE_PHOTO_MAX_BYTES),
                                                 "body": _mb(body_limit())}
        response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Content-Length"] = str(len(response.content))
    return response


def _mb(n: int) -> str:
    return f"{n // (1024 * 1024)} MB"


class RequestSizeLimitMiddleware:
    """Refuse a body by its Content-Length before anything reads a byte of it, and parse a
    multipart upload here, early, so that its limits answer 413 naming the field (later, in
    CSRF's view hook, they would surface as a bare 400 or a 500)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            return _refuse(request, 400, "body", "bad_length", "Content-Length is not a number")
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        limit = upload_limit() if multipart else body_limit()
        if length > limit:
            return _refuse(request, 413, "photos" if multipart else "body", "too_large",
                           f"the request body may be at most {_mb(limit)}")
        if multipart and request.method == "POST":
            try:
                request.POST  # noqa: B018 (parses the upload, with the handlers below)
            except UploadTooLarge as exc:
                # 422 like every other photo check (check_photo): the field is named
                return _refuse(request, 422, exc.field, "photo_too_large",
                               f"a photo may be at most {_mb(settings.WANGGE_PHOTO_MAX_BYTES)}")
            except RequestDataTooBig:
                return _refuse(request, 413, "body", "too_large",
                               f"the form fields may be at most {_mb(body_limit())}")
            except (TooManyFieldsSent, TooManyFilesSent):
                return _refuse(request, 400, "body", "too_many_fields",
                               "too many form fields or files")
            except MultiPartParserError:
                return _refuse(request, 400, "body", "bad_multipart",
                               "the multipart body cannot be read")
        return self.get_response(request)


class PhotoSizeLimit(FileUploadHandler):
    """First in the upload-handler chain: counts each file's bytes and stops the upload as
    soon as one passes WANGGE_PHOTO_MAX_BYTES, so an oversized photo is refused after 8 MB
    rather than after all of it was received. Passes every chunk on unchanged to Django's
    own handlers (memory, then temporary file)."""

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        self._received = 0
        super().new_file(field_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self._received += len(raw_data)
        if self._received > settings.WANGGE_PHOTO_MAX_BYTES:
            raise UploadTooLarge(self.field_name)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
