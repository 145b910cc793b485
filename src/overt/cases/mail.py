"""Sending a new share's code to its recipient through the SMTP server in OVERT_SMTP_URL.

The link and the code travel in one message only when the sharer asks for it; the page
that made the share shows the code either way, once. A mail server that cannot be reached
leaves the share made and says so (the sharer passes the code on by other means).
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from overt import errors
from overt.conf import get_settings

log = logging.getLogger(__name__)
TIMEOUT_S = 10


class MailError(errors.Unavailable):
    pass


def mail_configured() -> bool:
    return bool(get_settings().smtp_url)


def share_message(
    *, to: str, name: str, url: str, code: str, expires: str, sender: str, by: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Evidence shared with you"
    message.set_content(
        f"{name},\n\n{by} has shared evidence with you through overt. It is available until "
        f"{expires}.\n\nOpen: {url}\nCode: {code}\n\nThe code is needed once per browser. "
        "Every view and download is recorded, and the footage you watch carries your name.\n"
    )
    return message


def send(message: EmailMessage) -> None:
    """Send through OVERT_SMTP_URL (smtp://host:port or smtp+starttls://user:pass@host:port)."""
    url = get_settings().smtp_url
    if not url:
        raise MailError("no mail server is configured (OVERT_SMTP_URL)")
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtp+starttls"} or not parts.hostname:
        raise MailError("OVERT_SMTP_URL must be smtp://host:port or smtp+starttls://host:port")
    try:
        with smtplib.SMTP(parts.hostname, parts.port or 25, timeout=TIMEOUT_S) as server:
            if parts.scheme == "smtp+starttls":
                server.starttls()
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("share mail to %s not sent: %s", message["To"], exc)
        raise MailError(f"the mail server did not take the message: {exc}") from exc
