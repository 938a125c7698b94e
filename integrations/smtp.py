"""SMTP through aiosmtplib: one plain-text message per call, errors mapped onto the integrations'
hierarchy (a refusal of this message is a RequestError, anything that may pass later a TransientError).
Knows nothing of our database or settings."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from integrations.errors import RequestError, TransientError

VENDOR = "smtp"


class SmtpClient:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self._username = username
        self._password = password
        # Port 465 is TLS from the first byte (RFC 8314); elsewhere STARTTLS upgrades the connection.
        self._implicit_tls = port == 465
        self._starttls = starttls and not self._implicit_tls
        self._timeout = timeout

    def _message(self, *, to: str, subject: str, text: str, message_id: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id
        message.set_content(text)
        return message

    async def send(self, *, to: str, subject: str, text: str, message_id: str) -> str:
        """Send one message; the server's reply accepting it (it names the server's queue id)."""
        message = self._message(to=to, subject=subject, text=text, message_id=message_id)
        try:
            _, reply = await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self._username,
                password=self._password,
                use_tls=self._implicit_tls,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            if all(code >= 500 for code in codes):
                raise RequestError(VENDOR, max(codes), detail) from exc
            raise TransientError(VENDOR, detail, status_code=min(codes)) from exc
        except aiosmtplib.SMTPDataError as exc:
            if exc.code >= 500:
                raise RequestError(VENDOR, exc.code, exc.message) from exc
            raise TransientError(VENDOR, exc.message, status_code=exc.code) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Connection, TLS, authentication, sender refused: the server or our settings, not this
            # message — worth retrying once they are fixed.
            raise TransientError(VENDOR, f"{type(exc).__name__}: {exc}") from exc
        return reply
