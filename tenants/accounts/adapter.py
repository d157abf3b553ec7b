from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Portals are invitation-only: nobody signs themselves up."""
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Skip the password prompt right after a sign-in.

        A new owner is sent from sign-in straight to mandatory TOTP enrolment;
        asking for the password again seconds later helps nobody. Later changes
        still need a fresh confirmation.
        """
        request = getattr(self, "request", None)
        user = getattr(request, "user", None)
        if request is not None and user is not None and user.is_authenticated:
            records = get_authentication_records(request, user)
            if records and (
                time.time() - records[-1]["at"]
                < account_settings.REAUTHENTICATION_TIMEOUT
            ):
                return False
        return super().is_reauthentication_required(app=app, **kwargs)
