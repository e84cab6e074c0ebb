"""Against the real server (gunicorn): a 100 MB upload is refused from its headers, before a
byte of the body is sent, so a phone on a slow line learns it at once and the server reads
nothing."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlparse

from tests.e2e.conftest import Server


def _send_headers_only(server: Server, path: str, content_type: str, length: int) -> bytes:
    url = urlparse(server.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n"
            "Connection: close\r\n\r\n".encode())
        # no body follows: the answer must come from the headers alone
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_100_mb_upload_is_refused_before_its_body(server: Server) -> None:
    answer = _send_headers_only(server, "/api/v1/cases/with-photos",
                                "multipart/form-data; boundary=x", 100 * 1024 * 1024)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert json.loads(body)["detail"][0]["loc"] == ["body", "photos"]


def test_a_3_mb_json_body_is_refused_as_json(server: Server) -> None:
    answer = _send_headers_only(server, "/api/v1/registry/residents", "application/json",
                                3 * 1024 * 1024)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"application/json" in head.lower()
    assert json.loads(body)["detail"][0]["code"] == "too_large"
