"""Prepare throughput: a 60 KB HTML email with 40 links, sent PER_RECIPIENT to 10,000 people.

Calls ``sendtrail.tracking.core.prepare.prepare`` in-process (pure: parse once, then sign
and render each message) and reports messages/s, plus the cost of one token sign/verify.
Run alone with ``PYTHONSAFEPATH=1 .venv/bin/python bench/prepare_bench.py``.
"""

from __future__ import annotations

import json
import statistics
import time
import timeit
import uuid

from sendtrail.tracking.core.model import DeliveryMode, EmailKind, HitKind, TokenClaims
from sendtrail.tracking.core.policy import TrackingPolicy
from sendtrail.tracking.core.prepare import Draft, Recipient, prepare
from sendtrail.tracking.core.tokens import TokenKeys, sign, verify

KEYS = TokenKeys.derive(["bench-secret-key-bench-secret-key-0123456789"])
ACCOUNT = uuid.UUID("00000000-0000-4000-8000-00000000000a")
EMAIL = uuid.UUID("00000000-0000-4000-8000-0000000000e1")
SENT_AT = 1_714_000_000
POLICY = TrackingPolicy(
    tracking_enabled=True, open_tracking=True, click_tracking=True, marketing_tracking=True,
    marketing_link_tracking=True, privacy_mode=True, self_open_suppression=True,
    default_track=True, default_log=True, tracking_base_url="https://t7.na1.track.example.net",
)
TARGET_BYTES = 60 * 1024
LINKS = 40


def newsletter_html(target_bytes: int = TARGET_BYTES, links: int = LINKS) -> str:
    """A table-layout newsletter of about ``target_bytes`` with ``links`` distinct links."""
    head = ('<!doctype html><html><head><meta charset="utf-8"><style>td{font-family:Arial;'
            'font-size:14px;color:#333}</style></head><body><table width="600" align="center">')
    blocks = [
        f'<tr><td style="padding:12px 24px"><h2>Story {i + 1}</h2><p>'
        f'<a href="https://shop.example.com/collections/item-{i}?utm_source=newsletter&amp;'
        f'utm_medium=email&amp;utm_campaign=spring-{i}" style="color:#0a66c2">Read more about '
        f'item {i}</a></p></td></tr>'
        for i in range(links)
    ]
    tail = "</table></body></html>"
    filler = ('<tr><td style="padding:0 24px"><p>Lorem ipsum dolor sit amet, consectetur '
              'adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna '
              'aliqua. Ut enim ad minim veniam, quis nostrud exercitation.</p></td></tr>')
    size = len(head) + len(tail) + sum(map(len, blocks))
    per_block = max(0, (target_bytes - size) // len(filler) // links)
    body = "".join(block + filler * per_block for block in blocks)
    html = head + body + tail
    return html + "<!--" + "x" * max(0, target_bytes - len(html) - 7) + "-->"


def run(recipients: int = 10_000, repeats: int = 3) -> dict[str, float]:
    html = newsletter_html()
    draft = Draft(
        kind=EmailKind.MARKETING, subject="Spring news", html=html, text=None,
        recipients=tuple(Recipient(f"person{i}@example.org") for i in range(recipients)),
        delivery_mode=DeliveryMode.PER_RECIPIENT,
    )
    times, cpu_times = [], []
    for _ in range(repeats):
        prepared = None  # free the previous run's ~650 MB before the next one
        started, cpu_started = time.perf_counter(), time.process_time()
        prepared = prepare(draft, POLICY, keys=KEYS, account_id=ACCOUNT, email_id=EMAIL,
                           sent_at=SENT_AT)
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)
    if prepared is None:
        raise RuntimeError("no run")
    if len(prepared.messages) != recipients or len(prepared.links) != LINKS:
        raise RuntimeError(f"unexpected result: {len(prepared.links)} links tracked")
    seconds = statistics.median(times)
    click = TokenClaims(HitKind.CLICK, ACCOUNT, EMAIL, 7, False, SENT_AT, 3,
                        "https://shop.example.com/collections/item-3?utm_source=newsletter")
    pixel = TokenClaims(HitKind.OPEN, ACCOUNT, EMAIL, 7, False, SENT_AT)
    click_token, pixel_token = sign(click, KEYS), sign(pixel, KEYS)
    number = 20_000

    def micros(statement: object) -> float:
        return min(timeit.repeat(statement, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]

    return {
        "html_bytes": len(html),
        "links": LINKS,
        "recipients": recipients,
        "seconds": seconds,
        "messages_per_s": recipients / seconds,
        "messages_per_cpu_s": recipients / statistics.median(cpu_times),
        "sign_pixel_us": micros(lambda: sign(pixel, KEYS)),
        "sign_click_us": micros(lambda: sign(click, KEYS)),
        "verify_pixel_us": micros(lambda: verify(pixel_token, KEYS)),
        "verify_click_us": micros(lambda: verify(click_token, KEYS)),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
