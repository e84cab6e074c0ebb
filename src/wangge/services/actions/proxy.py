"""Proxy handling (代办), door to door. Placeholder until the proxy slice lands: the
pre-review slice calls on_application_decided when an application of a proxy request is
decided."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from wangge.services.models import Application


def on_application_decided(application: Application, actor: AbstractBaseUser) -> None:
    """Move the proxy request of `application` on (passed → handling, returned → returned,
    rejected → rejected). Called inside the decision's transaction."""
    raise NotImplementedError("the proxy slice implements this")
