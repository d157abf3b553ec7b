from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailopsConfig(AppConfig):
    name = "mailops"
    verbose_name = _("Mail operations")
