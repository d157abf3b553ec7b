"""Log in to the ACS SMTP relay with a credential and send a test message.

Used right after a credential is created or rotated, while its password is still
in memory. The password is never stored or logged.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from django.conf import settings
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class SmtpTestResult:
    ok: bool
    step: str  # connect / starttls / auth / send / done
    message: str  # plain-language explanation in the active language
    detail: str = ""  # the server's reply, for support


def _tls_context() -> ssl.SSLContext:
    bundle = settings.AZURE_CA_BUNDLE
    if isinstance(bundle, str) and bundle:
        return ssl.create_default_context(cafile=bundle)
    return ssl.create_default_context()


def smtp_test(
    *, username: str, password: str, sender: str, recipient: str
) -> SmtpTestResult:
    """Run the same steps a printer would: connect, STARTTLS, AUTH LOGIN, send."""
    step = "connect"
    try:
        with smtplib.SMTP(
            settings.ACS_SMTP_HOST, settings.ACS_SMTP_PORT, timeout=15
        ) as smtp:
            smtp.ehlo()
            step = "starttls"
            smtp.starttls(context=_tls_context())
            smtp.ehlo()
            step = "auth"
            smtp.login(username, password)
            step = "send"
            message = EmailMessage()
            message["From"] = sender
            message["To"] = recipient
            message["Subject"] = _("SMTP test from the mail portal")
            message.set_content(
                _("This is a test message. The SMTP settings of %(user)s work.")
                % {"user": username}
            )
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        return SmtpTestResult(
            False,
            step,
            _(
                "Sign-in was refused. Check the user name and password (copy them again)."
            ),
            f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace')}",
        )
    except smtplib.SMTPSenderRefused as exc:
        return SmtpTestResult(
            False,
            step,
            _("The sender address was refused. Use exactly the sender address shown."),
            f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace')}",
        )
    except smtplib.SMTPException as exc:
        return SmtpTestResult(
            False, step, _("The mail server refused the message."), str(exc)[:300]
        )
    except ssl.SSLError as exc:
        return SmtpTestResult(
            False,
            step,
            _("The encrypted connection (STARTTLS) failed."),
            str(exc)[:300],
        )
    except (TimeoutError, OSError) as exc:
        return SmtpTestResult(
            False,
            step,
            _("The mail server could not be reached. Check the network and port 587."),
            str(exc)[:300],
        )
    return SmtpTestResult(
        True, "done", _("The test message was accepted. The settings work."), ""
    )
