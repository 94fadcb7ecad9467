"""The portal's e-mail to claimants (issue 15), with a real ``heed serve`` and a local SMTP
server: the receipt carries the status URL, a mail server that hangs never holds up a
request, and workers never send a message twice."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from audit import open_publisher
from audit.complaints import list_complaints
from audit.outbox import OutboxRecord, list_outbox
from heed.serve.complaints import RECEIPTS_PER_DAY
from tests.audit.test_background import wait_until
from tests.heed.serve.owners import copy_db
from tests.heed.serve.server import heed_serve
from tests.heed.serve.test_complaints import COMPLAINT
from tests.support.smtpserver import smtp_server

FROM = "Example AI crawler <crawler@example.ai>"


def _outbox(db: Path) -> list[OutboxRecord]:
    engine = open_publisher(str(db))
    try:
        return list_outbox(engine)
    finally:
        engine.dispose()


def test_the_receipt_is_mailed_with_the_status_url(demo_db: Path, tmp_path: Path) -> None:
    db = copy_db(demo_db, tmp_path)
    with smtp_server() as box:
        mail = ("--smtp", box.url, "--mail-from", FROM)
        with heed_serve(db, *mail, "--public-url", "https://bot.example.ai") as server:
            answer = httpx.post(f"{server.url}/api/v1/complaints", json=COMPLAINT, timeout=30)
            assert answer.status_code == 201, answer.text
            data = answer.json()
            (receipt,) = box.wait_for(1)
            wait_until(lambda: _outbox(db)[0].state == "sent", "the receipt marked sent")
    assert data["status_url"].startswith("https://bot.example.ai/complaints/status/")
    assert receipt["To"] == "rights@press.example"
    assert receipt["Subject"] == f"Your complaint {data['reference']} was received"
    text = receipt.get_content()
    assert data["status_url"] in text
    assert "https://press.example/books/" in text
    (sent,) = _outbox(db)
    assert (sent.state, sent.attempts, sent.topic) == ("sent", 1, "received")


@contextmanager
def _silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word (an SMTP server hanging)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def test_a_hanging_mail_server_never_holds_up_a_request(demo_db: Path, tmp_path: Path) -> None:
    db = copy_db(demo_db, tmp_path)
    with _silent_server() as port:
        mail = ("--smtp", f"smtp+plain://127.0.0.1:{port}", "--mail-from", FROM)
        with heed_serve(db, *mail) as server:
            for _ in range(2):
                # The sender waits on the silent server (30 s per SMTP step) in the background;
                # the complaint is taken at once all the same.
                answer = httpx.post(f"{server.url}/api/v1/complaints", json=COMPLAINT, timeout=10)
                assert answer.status_code == 201, answer.text
                key = answer.json()["status_url"].rsplit("/", 1)[1]
                status = httpx.get(f"{server.url}/api/v1/complaints/status/{key}", timeout=10)
                assert status.json()["status"] == "received"
            assert httpx.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200
    assert [m.state for m in _outbox(db)] == ["pending", "pending"]  # kept for a later try


def test_workers_send_each_message_once(demo_db: Path, tmp_path: Path) -> None:
    db = copy_db(demo_db, tmp_path)
    with smtp_server() as box:
        mail = ("--smtp", box.url, "--mail-from", FROM)
        with heed_serve(db, *mail, "--workers", "2", "--post-burst", "8") as server:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                for n in range(4):
                    body = COMPLAINT | {"email": f"claimant{n}@press.example"}
                    assert client.post("/api/v1/complaints", json=body).status_code == 201
            box.wait_for(4)
            # Delivered; the sender marks each sent right after the server's answer.
            wait_until(lambda: all(m.state == "sent" for m in _outbox(db)), "all marked sent")
    outbox = _outbox(db)
    assert [(m.state, m.attempts) for m in outbox] == [("sent", 1)] * 4
    assert sorted(r[0] for r in box.envelopes) == [f"claimant{n}@press.example" for n in range(4)]


def test_the_form_cannot_flood_a_mailbox(demo_db: Path, tmp_path: Path) -> None:
    """Complaints naming one address: each is taken, but only RECEIPTS_PER_DAY receipts a
    day go to that address (whatever its letter case)."""
    db = copy_db(demo_db, tmp_path)
    with smtp_server() as box:
        mail = ("--smtp", box.url, "--mail-from", FROM)
        with heed_serve(db, *mail, "--post-burst", "10") as server:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                for n in range(RECEIPTS_PER_DAY + 2):
                    email = "Victim@Press.example" if n % 2 else "victim@press.example"
                    body = COMPLAINT | {"email": email}
                    assert client.post("/api/v1/complaints", json=body).status_code == 201
            box.wait_for(RECEIPTS_PER_DAY)
            wait_until(lambda: all(m.state == "sent" for m in _outbox(db)), "all marked sent")
    assert len(_outbox(db)) == RECEIPTS_PER_DAY
    assert len(box.messages) == RECEIPTS_PER_DAY
    engine = open_publisher(str(db))
    try:
        assert len(list_complaints(engine)) == RECEIPTS_PER_DAY + 2
    finally:
        engine.dispose()
