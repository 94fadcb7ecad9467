"""E-mail to claimants: the mail server's settings, the messages, and their delivery from the
outbox (audit/outbox.py)."""

from heed.mail.config import MailConfig, MailConfigError, mail_config
from heed.mail.messages import receipt_notice, step_notice
from heed.mail.sender import BackgroundSender, SendReport, send_due
from heed.mail.smtp import DeliveryError

__all__ = [
    "BackgroundSender",
    "DeliveryError",
    "MailConfig",
    "MailConfigError",
    "SendReport",
    "mail_config",
    "receipt_notice",
    "send_due",
    "step_notice",
]
