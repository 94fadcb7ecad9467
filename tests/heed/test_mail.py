"""E-mail to claimants (heed/mail, ``heed mail``, ``heed complaints … --smtp``) against a local
SMTP server: what the claimant receives at each step, and what happens when the server is
down, refuses the address, or offers no STARTTLS — the step is recorded all the same, and the
message waits in the outbox for a later try."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from audit import AuditStore, open_publisher
from audit.complaints import Submission, submit_complaint
from audit.outbox import list_outbox
from heed.mail import MailConfigError, mail_config, receipt_notice, send_due
from tests.heed.test_complaints_cli import _run, lodge
from tests.support.smtpserver import Mailbox, smtp_server

FROM = "Example AI crawler <crawler@example.ai>"


@pytest.fixture
def mailbox() -> Mailbox:
    with smtp_server() as box:
        yield box  # type: ignore[misc]


@pytest.mark.parametrize(
    ("url", "sender", "words"),
    [
        ("smtp://mail.example", None, "needs a sender address (HEED_MAIL_FROM)"),
        (None, FROM, "needs a server (HEED_SMTP_URL)"),
        ("http://mail.example", FROM, "must start with smtp://, smtps://, smtp\\+plain://"),
        ("smtp://", FROM, "names no host"),
        ("smtp://mail.example/x", FROM, "takes no path, query or fragment"),
        ("smtp://mail.example:99999", FROM, "is not a URL"),
        ("smtp+plain://u:p@relay", FROM, "would send the password unencrypted"),
        ("smtp://mail.example", "nobody", "is not an address"),
        ("smtp://mail.example", "a@b.c\r\nBcc: x@y.z", "is not an address"),
    ],
)
def test_bad_mail_settings(url: str | None, sender: str | None, words: str) -> None:
    with pytest.raises(MailConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        mail_config(url, sender)


def test_mail_settings() -> None:
    assert mail_config(None, None) is None
    config = mail_config("smtp://ops%40example.ai:s%3Acret@mail.example.ai", FROM)
    assert config is not None
    assert (config.host, config.port, config.security) == ("mail.example.ai", 587, "starttls")
    assert (config.username, config.password) == ("ops@example.ai", "s:cret")
    assert "s:cret" not in repr(config)
    tls = mail_config("smtps://mail.example.ai", "crawler@example.ai")
    assert tls is not None
    assert (tls.port, tls.security, tls.sender) == (465, "tls", "crawler@example.ai")


def _db(tmp_path: Path, email: str = "rights@press.example") -> tuple[str, str]:
    return str(tmp_path / "heed.db"), lodge(tmp_path / "heed.db", email)


def test_every_step_is_mailed_to_the_claimant(tmp_path: Path, mailbox: Mailbox) -> None:
    db, ref = _db(tmp_path)
    mail = ("--smtp", mailbox.url, "--mail-from", FROM, "--db", db)
    code, out, _ = _run("complaints", "ack", ref, "--reason", "we will look into it", *mail)
    assert code == 0
    assert out.splitlines() == [
        f"{ref}: acknowledged",
        f"  e-mail to the claimant sent through 127.0.0.1:{mailbox.port} (plain)",
    ]
    code, out, _ = _run(
        "complaints", "resolve", ref, "--upheld", "--reason", "the reservation was ignored",
        "--reserve", *mail,
    )  # fmt: skip
    assert code == 0
    acked, upheld = mailbox.wait_for(2)
    assert mailbox.envelopes == [["rights@press.example"], ["rights@press.example"]]
    assert acked["From"] == FROM
    assert acked["To"] == "rights@press.example"
    assert acked["Subject"] == f"Your complaint {ref} was acknowledged"
    assert acked["Auto-Submitted"] == "auto-generated"
    assert acked["Message-ID"].endswith("@example.ai>")
    assert "we will look into it" in acked.get_content()
    assert upheld["Subject"] == f"Your complaint {ref} was upheld"
    text = upheld.get_content().replace("\r\n", "\n")
    assert "Our reasoning:\nthe reservation was ignored" in text
    assert "domain press.example: reserved for tdm, train-ai, ai-input" in text
    code, out, _ = _run("mail", "list", "--json", "--db", db)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["state"], r["topic"], r["complaint"]) for r in rows] == [
        ("sent", "acknowledged", ref),
        ("sent", "upheld", ref),
    ]


def test_without_a_mail_server_nothing_is_queued(tmp_path: Path) -> None:
    db, ref = _db(tmp_path)
    code, out, err = _run("complaints", "ack", ref, "--db", db)
    assert (code, out) == (0, f"{ref}: acknowledged\n")
    assert "no e-mail to the claimant: no mail server (HEED_SMTP_URL) configured" in err
    assert _run("mail", "list", "--db", db)[1] == "no messages\n"
    code, _, err = _run("mail", "send", "--db", db)
    assert code == 2
    assert "no mail server: set HEED_SMTP_URL and HEED_MAIL_FROM" in err
    code, _, err = _run("complaints", "review", ref, "--smtp", "smtp://x", "--db", db)
    assert code == 2
    assert "needs a sender address" in err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_server_down_leaves_the_message_for_later(tmp_path: Path, mailbox: Mailbox) -> None:
    db, ref = _db(tmp_path)
    down = f"smtp+plain://127.0.0.1:{_closed_port()}"
    code, out, err = _run("complaints", "ack", ref, "--smtp", down, "--mail-from", FROM, "--db", db)
    assert (code, out) == (0, f"{ref}: acknowledged\n")  # the step is taken all the same
    assert "e-mail not sent: message 1 to rights@press.example: ConnectionRefusedError" in err
    assert "it stays in the outbox" in err
    (pending,) = list_outbox_of(db)
    assert (pending.state, pending.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in pending.last_error
    # Not due again before its retry time: heed mail send has nothing to do yet.
    code, out, _ = _run("mail", "send", "--smtp", mailbox.url, "--mail-from", FROM, "--db", db)
    assert (code, out) == (0, "0 sent, 0 to retry later, 0 given up\n")
    engine = open_publisher(db)
    try:
        config = mail_config(mailbox.url, FROM)
        assert config is not None
        report = send_due(engine, config, now=pending.next_attempt_at)
    finally:
        engine.dispose()
    assert (report.sent, report.errors) == (1, [])
    assert mailbox.wait_for(1)[0]["Subject"] == f"Your complaint {ref} was acknowledged"
    assert list_outbox_of(db)[0].state == "sent"


def list_outbox_of(db: str) -> list:  # type: ignore[type-arg]
    engine = open_publisher(db)
    try:
        return list_outbox(engine)
    finally:
        engine.dispose()


def test_refusals_and_missing_starttls(tmp_path: Path, mailbox: Mailbox) -> None:
    for local, state in (("refused", "failed"), ("busy", "pending")):
        db, ref = _db(tmp_path / local, f"{local}@press.example")
        code, _, err = _run(
            "complaints", "ack", ref, "--smtp", mailbox.url, "--mail-from", FROM, "--db", db
        )
        assert code == 0
        (message,) = list_outbox_of(db)
        assert message.state == state, err
        assert ("550" if local == "refused" else "451") in message.last_error
        code, out, err = _run(
            "mail", "send", "--smtp", mailbox.url, "--mail-from", FROM, "--db", db
        )
        assert (code, out) == (0, "0 sent, 0 to retry later, 0 given up\n")  # nothing due
    # smtp:// insists on STARTTLS; the test server offers none: nothing is sent in clear.
    db, ref = _db(tmp_path / "tls")
    starttls = f"smtp://127.0.0.1:{mailbox.port}"
    code, _, err = _run(
        "complaints", "ack", ref, "--smtp", starttls, "--mail-from", FROM, "--db", db
    )
    assert code == 0
    assert "does not offer STARTTLS" in err
    (message,) = list_outbox_of(db)
    assert message.state == "pending"
    assert mailbox.messages == []


def test_the_receipt_carries_the_status_url_once(tmp_path: Path, mailbox: Mailbox) -> None:
    db = str(tmp_path / "heed.db")
    with AuditStore.open(db):
        pass
    engine = open_publisher(db)
    try:
        complaint, key = submit_complaint(
            engine,
            Submission(
                claimant="Jo Writer",
                capacity="rightsholder",
                email="jo@writer.example",
                concerns=("writer.example",),
                right_claimed="copyright",
                statement="s",
                requested=("information",),
            ),
            notify=receipt_notice(lambda k: f"https://portal.example/complaints/status/{k}"),
        )
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT body, secret FROM mail_outbox").one()
        assert key not in stored.body  # the body keeps a placeholder; the key is the secret
        config = mail_config(mailbox.url, FROM)
        assert config is not None
        assert send_due(engine, config).sent == 1
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT secret FROM mail_outbox").scalar() is None
    finally:
        engine.dispose()
    (receipt,) = mailbox.wait_for(1)
    assert receipt["Subject"] == f"Your complaint {complaint.reference} was received"
    assert f"https://portal.example/complaints/status/{key}" in receipt.get_content()


def test_a_message_that_cannot_be_built_is_given_up(tmp_path: Path, mailbox: Mailbox) -> None:
    """A header that would inject another (a line break in the address) is never sent, and
    the message is given up once, not claimed again every few minutes."""
    import datetime as dt

    from audit.outbox import Message, enqueue

    db, _ = _db(tmp_path)
    engine = open_publisher(db)
    try:
        with engine.begin() as conn:
            bad = Message(
                recipient="a@b.example\nBcc: c@d.example", subject="s", body="b", topic="x"
            )
            enqueue(conn, bad, now=dt.datetime.now(dt.UTC))
        config = mail_config(mailbox.url, FROM)
        assert config is not None
        report = send_due(engine, config)
        assert (report.sent, report.given_up) == (0, 1)
        (message,) = list_outbox(engine)
        assert message.state == "failed"
        assert message.last_error.startswith("not a valid message")
    finally:
        engine.dispose()
    assert mailbox.messages == []
