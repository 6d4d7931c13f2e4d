"""Relay throughput: a 60 KB HTML email to 4 recipients (2 To, 1 Cc, 1 Bcc), from submission
to the SMTP relay until the account's upstream has accepted every copy.

A real ``sendtrail serve`` (relay on 127.0.0.1, the delivery worker in the same process) on
the given database, and an aiosmtpd server on 127.0.0.1 playing the account's own mail
server. The baseline, measured in the same run with the same clients: the same messages
submitted straight to that upstream (one transaction per message with its 4 recipients),
which is what the mail client would do without Sendtrail. Run alone with
``PYTHONSAFEPATH=1 .venv/bin/python bench/relay_bench.py``.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.policy import SMTP as CRLF_POLICY
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import server as served_process

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
MESSAGES = 200
CLIENTS = 4
TO = ("ann@client.example", "ben@client.example")
CC = ("cy@client.example",)
BCC = ("dee@client.example",)
CONFIGURE = """mutation($i: OutboundMailInput!) { updateOutboundMail(input: $i) { configured } }"""


class Upstream:
    """Accepts everything; counts accepted copies (recipients)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.copies = 0
        self.last_at = 0.0
        upstream = self

        class Handler:
            async def handle_DATA(self, server: SMTP, session: Session,
                                  envelope: Envelope) -> str:
                with upstream.lock:
                    upstream.copies += len(envelope.rcpt_tos)
                    upstream.last_at = time.monotonic()
                return "250 2.0.0 queued"

        self.port = _free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     data_size_limit=50 * 1024 * 1024)

    def wait_for(self, copies: int, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.copies >= copies:
                    return self.last_at
            time.sleep(0.02)
        sys.exit(f"the upstream got {self.copies} of {copies} copies in {timeout} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def html_body(target: int = 60 * 1024) -> str:
    rows: list[str] = []
    n = 0
    while sum(map(len, rows)) < target:
        link = (f' <a href="https://shop.example.com/item-{n // 10}?utm_source=mail">See item '
                f'{n // 10}</a>.' if n % 10 == 0 else "")  # 40 links in 60 KB, as prepare_bench
        rows.append(f'<tr><td style="padding:8px"><p>Paragraph {n}: our spring range is in, '
                    f'with new colours and sizes for the season.{link}</p></td></tr>')
        n += 1
    body = "\n".join(rows)
    return f"<html><body><table>{body}</table></body></html>"


def message(sender: str, number: int, html: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(TO)
    mail["Cc"] = ", ".join(CC)
    mail["Subject"] = f"Offer {number}"
    mail["Message-ID"] = f"<bench-{number}-{time.monotonic_ns()}@client.example>"
    mail.set_content("Our spring range is in.")
    mail.add_alternative(html, subtype="html", cte="quoted-printable")
    return mail.as_bytes(policy=CRLF_POLICY)  # CRLF, as a mail client sends it


def submit_all(port: int, sender: str, login: tuple[str, str] | None, html: str) -> float:
    """Submit MESSAGES messages with CLIENTS connections; the time it took."""
    recipients = [*TO, *CC, *BCC]

    def client(numbers: range) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            if login is not None:
                smtp.login(*login)
            for number in numbers:
                smtp.sendmail(sender, recipients, message(sender, number, html))

    per_client = MESSAGES // CLIENTS
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, [range(i * per_client, (i + 1) * per_client)
                               for i in range(CLIENTS)]))
    return time.monotonic() - started


@contextlib.contextmanager
def serve(env: dict[str, str], log: Path, base_url: str) -> Iterator[None]:
    """`sendtrail serve` on ``base_url``'s port, until the block ends."""
    command = [str(BIN / "sendtrail"), "serve", "--port", base_url.rsplit(":", 1)[1]]
    with served_process(command, env, log, f"{base_url}/healthz"):
        yield


def run(database_url: str | None = None) -> dict[str, Any]:
    """Messages/s through the relay and straight to the upstream, and their ratio."""
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as scratch:
        data_dir = Path(scratch)
        http_port, relay_port = _free_port(), _free_port()
        env = {**os.environ, "PYTHONSAFEPATH": "1", "SENDTRAIL_DATA_DIR": str(data_dir),
               "SENDTRAIL_DATABASE_URL": database_url or f"sqlite:///{data_dir / 'st.db'}",
               "SENDTRAIL_SMTP_PORT": "0", "SENDTRAIL_SUBMISSION_PORT": str(relay_port),
               "SENDTRAIL_OUTBOUND_ALLOW_PRIVATE": "true", "SENDTRAIL_SENDS_PER_HOUR": "1000000",
               "SENDTRAIL_PUBLIC_URL": f"http://127.0.0.1:{http_port}"}
        subprocess.run([str(BIN / "sendtrail"), "migrate"], env=env, check=True,  # noqa: S603
                       capture_output=True)
        printed = subprocess.run([str(BIN / "sendtrail"), "demo"], env=env,  # noqa: S603
                                 check=True, capture_output=True, text=True).stdout
        lines = dict(line.split(": ", 1) for line in printed.splitlines() if ": " in line)
        sender, token, relay_password = lines["login"], lines["token"], lines["relay password"]
        html = html_body()
        upstream = Upstream()
        upstream.controller.start()
        try:
            baseline_seconds = submit_all(upstream.port, sender, None, html)
            upstream.wait_for(MESSAGES * 4, timeout=60)
            with upstream.lock:
                upstream.copies = 0
            base_url = f"http://127.0.0.1:{http_port}"
            with serve(env, data_dir / "serve.log", base_url):
                answer = httpx.post(f"{base_url}/graphql", timeout=30, headers={
                    "Authorization": f"Bearer {token}"}, json={"query": CONFIGURE, "variables": {
                        "i": {"host": "127.0.0.1", "port": upstream.port,
                              "security": "NONE"}}}).json()
                if answer.get("errors"):
                    sys.exit(f"updateOutboundMail failed: {answer['errors']}")
                started = time.monotonic()
                submitted = submit_all(relay_port, sender, (sender, relay_password), html)
                delivered = upstream.wait_for(MESSAGES * 4, timeout=600) - started
        finally:
            upstream.controller.stop()
    return {
        "messages": MESSAGES, "clients": CLIENTS, "html_bytes": len(html.encode()),
        "baseline_per_s": MESSAGES / baseline_seconds,
        "submitted_per_s": MESSAGES / submitted,
        "delivered_per_s": MESSAGES / delivered,
        "ratio": (MESSAGES / delivered) / (MESSAGES / baseline_seconds),
    }


if __name__ == "__main__":
    result = run(sys.argv[1] if len(sys.argv) > 1 else None)
    print(result)
