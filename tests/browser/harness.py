"""What browser tests share (fixtures are in conftest.py): the served site, a watched page,
and signing in with the keyboard."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import httpx
from e2e.processes import Server
from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Response, expect
from playwright.sync_api import Error as PlaywrightError
from support import PASSWORD, Tenant

SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDEST_ELEMENT = """(() => {
  const width = document.documentElement.clientWidth;
  let worst = null;
  for (const element of document.querySelectorAll("body *")) {
    const right = element.getBoundingClientRect().right;
    if (right > width && (!worst || right > worst.right)) worst = { element, right };
  }
  if (!worst) return "no element found";
  const e = worst.element;
  return `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} "${(e.textContent || "")
    .trim().slice(0, 60)}" ends at ${Math.round(worst.right)} px`;
})()"""
"""Names the element that sticks out furthest, so that a failure says what to fix."""
KEY_COLUMNS_OFF_SCREEN = """(() => {
  const width = document.documentElement.clientWidth;
  const off = [];
  for (const element of document.querySelectorAll("[data-key-column]")) {
    if (!element.checkVisibility()) continue;  // e.g. the table a phone replaces with cards
    const box = element.getBoundingClientRect();
    if (box.left >= -0.5 && box.right <= width + 0.5) continue;
    const list = element.closest("table, ul, ol, section");
    const name = list && (list.getAttribute("aria-label") || list.getAttribute("aria-labelledby"));
    off.push(`${element.tagName.toLowerCase()} "${(element.textContent || "").trim().slice(0, 40)}"`
      + `${name ? ` in "${name}"` : ""} spans ${Math.round(box.left)}-${Math.round(box.right)} px`);
  }
  return off;
})()"""
"""Describes each visible ``[data-key-column]`` element (a table's key cell, or the key line of
a phone's card) that lies beyond the screen's width, e.g. scrolled away in a wide table."""
PHONE_WIDTH = 576
"""Below this width (Mantine's ``xs``) a page is read on a phone, and its tables' key columns
must stay on screen (issue 15, item 9)."""


@dataclass(frozen=True)
class Site:
    server: Server
    tenant: Tenant
    """A new account: no emails yet."""
    account_name: str
    busy: Tenant
    """An account whose admin prepared one email, "Pricing for Q3"."""

    @property
    def url(self) -> str:
        return self.server.base_url


@dataclass
class Ui:
    """A page that records everything that went wrong in it, and screenshots on demand."""

    page: Page
    site: Site
    name: str
    problems: list[str] = field(default_factory=list)
    expected: list[tuple[str, int]] = field(default_factory=list)
    expected_graphql: list[str] = field(default_factory=list)
    shots: int = 0

    def expect_status(self, path: str, status: int) -> None:
        """This test provokes ``status`` from ``path`` on purpose (e.g. a wrong password)."""
        self.expected.append((path, status))

    def _is_expected(self, url: str, status: int) -> bool:
        return any(url == f"{self.site.url}{path}" and status == wanted
                   for path, wanted in self.expected)

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.site.url}{path}")

    def snap(self, label: str) -> Path:
        """A full-page screenshot of what is shown now, named after the test and the width."""
        self.shots += 1
        self.page.wait_for_load_state("networkidle")
        width = self.page.viewport_size["width"] if self.page.viewport_size else 0
        path = SCREENSHOTS / f"{self.name}--{self.shots:02d}-{label}-{width}px.png"
        self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    def wait_until(self, expression: str, timeout: float = 10.0) -> bool:
        """Poll a JavaScript expression until it is truthy; False if it never was.

        Not ``page.wait_for_function``: its polling evaluates strings inside the page,
        which the web admin's CSP (no 'unsafe-eval') rightly refuses."""
        deadline = time.monotonic() + timeout
        while not self.page.evaluate(expression):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def assert_fits(self) -> None:
        """Nothing sticks out sideways: the page reads without horizontal scrolling."""
        overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        # Right after a resize the layout (and the scrollbar) may still be settling.
        if not self.wait_until(f"{overflow} <= 0", timeout=2.0):
            wider = self.page.evaluate(overflow)
            widest = self.page.evaluate(WIDEST_ELEMENT)
            raise AssertionError(f"the page is {wider} px wider than the screen: {widest}")

    def assert_on_screen(self, locator: Locator) -> None:
        """``locator`` is visible and within the screen's width: a table's key column (the
        value to copy, a status) is never cut off or scrolled away sideways (issue 15,
        item 9)."""
        expect(locator).to_be_visible()
        box = locator.bounding_box()
        width = (self.page.viewport_size or {"width": 0})["width"]
        assert box is not None, locator
        assert box["x"] >= 0, (locator, box)
        assert box["x"] + box["width"] <= width + 0.5, (locator, box, width)

    def key_columns_off_screen(self) -> list[str]:
        """On a phone, the visible key cells (``data-key-column``) that are not within the
        screen's width; nothing at a wider viewport, where a table may scroll sideways."""
        width = (self.page.viewport_size or {"width": 0})["width"]
        if width >= PHONE_WIDTH:
            return []
        try:
            off: list[str] = self.page.evaluate(KEY_COLUMNS_OFF_SCREEN)
        except PlaywrightError:  # the page is gone or navigating: nothing shown to check
            return []
        return off

    def check_key_columns(self) -> None:
        """At teardown, like the console errors: a key column off-screen is a problem."""
        self.problems.extend(f"key column off-screen at {self.page.viewport_size}: {off}"
                             for off in self.key_columns_off_screen())

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        failed = re.match(r"Failed to load resource: the server responded with a status of (\d+)",
                          message.text)
        if failed and self._is_expected(message.location.get("url", ""), int(failed.group(1))):
            return
        self.problems.append(f"console error: {message.text} ({message.location})")

    def expect_graphql_error(self, code: str) -> None:
        """This test provokes a GraphQL error with ``code`` on purpose (e.g. a bad URL)."""
        self.expected_graphql.append(code)

    def on_response(self, response: Response) -> None:
        if response.status >= 400 and not self._is_expected(response.url, response.status):
            self.problems.append(f"HTTP {response.status} for {response.request.method} "
                                 f"{response.url}")
        elif urlsplit(response.url).path == "/graphql":
            self._check_graphql(response)

    def _check_graphql(self, response: Response) -> None:
        """A GraphQL error comes with HTTP 200: a page that failed to load its data would
        otherwise pass. Only the session probe's "not signed in" is part of normal use."""
        try:
            body = response.json()
        except (PlaywrightError, ValueError):  # not JSON, or gone with a navigation
            return
        request = response.request
        operation = (parse_qs(urlsplit(request.url).query).get("operationName") or [""])[0]
        if request.method == "POST":
            operation = (request.post_data_json or {}).get("operationName") or operation
        for error in body.get("errors") or [] if isinstance(body, dict) else []:
            code = (error.get("extensions") or {}).get("code", "")
            if code in self.expected_graphql or (
                operation == "SessionProbe" and code in {"UNAUTHENTICATED", "FORBIDDEN"}
            ):
                continue
            self.problems.append(f"GraphQL error {code} in {operation or 'an operation'}: "
                                 f"{error.get('message')}")

    def on_request_failed(self, request: Request) -> None:
        if request.failure == "net::ERR_ABORTED":
            return  # cancelled by the page itself: navigated away, or a query left the screen
        self.problems.append(f"request failed: {request.method} {request.url} "
                             f"({request.failure})")


def sign_in(ui: Ui, email: str, password: str = PASSWORD) -> None:
    """Sign in with the keyboard only, and wait for the overview."""
    ui.goto("/sign-in")
    email_field = ui.page.get_by_label("Email address")
    email_field.focus()
    ui.page.keyboard.type(email)
    ui.page.keyboard.press("Tab")
    ui.page.keyboard.type(password)
    ui.page.keyboard.press("Enter")
    expect(ui.page.get_by_role("heading", name="Overview", level=1)).to_be_visible()


CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"  # a security scanner: MACHINE
TOO_SOON = 2.3
"""Hits within 2 s of preparing are MACHINE: the person's hit waits longer."""
PREPARE_TRACKED = """mutation($i: PrepareEmailInput!) {
  prepareEmail(input: $i) { email { id } messages { html } } }"""


class Prepared(NamedTuple):
    id: str
    pixel: str
    """The pixel's URL."""
    links: list[str]
    """The tracked links' URLs (a paid seat's emails, R12)."""


def prepare_tracked_email(site: Site, token: str, subject: str, address: str, *,
                          also: tuple[str, ...] = (),
                          html: str = "<p>Hi Pat, see you soon.</p>") -> Prepared:
    """Prepare a tracked email over the API (one message to ``address`` and ``also``, who
    then share its pixel: R15)."""
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": PREPARE_TRACKED, "variables": {"i": {
                            "subject": subject, "html": html,
                            "recipients": [{"address": a} for a in (address, *also)]}}})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert not body.get("errors"), body
    prepared = body["data"]["prepareEmail"]
    sent = prepared["messages"][0]["html"]
    match = re.search(r'src="(https?://[^"]+/o/[^"]+\.gif)"', sent)
    assert match, prepared
    links = re.findall(r'href="(https?://[^"]+/c/[^"]+)"', sent)
    return Prepared(prepared["email"]["id"], match.group(1), links)


def load_pixel(url: str, user_agent: str) -> None:
    """Load the pixel from 127.0.0.2: the browser signed the sender in from 127.0.0.1, and a
    hit from the sender's own address is theirs (SELF, R9)."""
    assert _recipient_get(url, user_agent).status_code == 200


def click_link(url: str, user_agent: str) -> str:
    """Follow a tracked link as a recipient would, up to its redirect (never beyond it)."""
    answer = _recipient_get(url, user_agent)
    assert answer.status_code == 302, (answer.status_code, answer.text[:200])
    return answer.headers["location"]


ENGAGEMENTS_OF = """query($id: ID!) { email(id: $id) { engagements(first: 100,
  filter: {verdicts: [HUMAN, MACHINE, SELF]}) { edges { node { verdict } } } } }"""


def wait_until_derived(site: Site, token: str, email_id: str, verdicts: list[str],
                       timeout: float = 15.0) -> None:
    """Wait until the deriver has stored the email's hits (the pixel answers before they are
    derived, issue 14), so that a page opened next shows them all: ``verdicts`` is the
    expected verdict of each, in any order."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        answer = httpx.post(f"{site.url}/graphql", timeout=30,
                            headers={"Authorization": f"Bearer {token}"},
                            json={"query": ENGAGEMENTS_OF, "variables": {"id": email_id}})
        edges = answer.json()["data"]["email"]["engagements"]["edges"]
        seen = sorted(edge["node"]["verdict"] for edge in edges)
        if seen == sorted(verdicts):
            return
        time.sleep(0.1)
    raise AssertionError(f"the email's hits were derived as {seen}, not {sorted(verdicts)}")


def _recipient_get(url: str, user_agent: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=10, follow_redirects=False) as client:
        return client.get(url, headers={"User-Agent": user_agent})


LOG_EMAIL = "mutation($i: LogEmailInput!) { logEmail(input: $i) { id htmlUrl } }"
# A script, and an image whose onerror would run if it survived sanitising and the frame
# allowed scripts (the sanitiser drops the relative `src`, so the frame loads nothing).
HOSTILE = ("<script>window.parent.__pwned = 1; document.title='pwned'</script><p>Hello</p>"
           "<img src=x onerror=\"window.parent.__pwned=2\">")


def log_email(site: Site, address: str, subject: str, html: str = HOSTILE) -> dict[str, Any]:
    content = base64.b64encode(subject.encode()).decode()  # distinct: blobs are shared by hash
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {site.tenant.admin_token}"},
                        json={"query": LOG_EMAIL, "variables": {"i": {
                            "subject": subject, "html": html, "text": "Hello",
                            "recipients": [{"address": address, "name": "Ria Roe"}],
                            "attachments": [{"filename": "notes.txt", "contentType": "text/plain",
                                             "contentBase64": content}],
                        }}})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    email: dict[str, Any] = body["data"]["logEmail"]
    return email


def open_contact(ui: Ui, address: str) -> None:
    """Through the navigation and the search, with the keyboard for the search."""
    ui.page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Contacts").click()
    expect(ui.page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    ui.page.get_by_role("searchbox", name="Search contacts").fill(address.split("@", maxsplit=1)[0])
    ui.page.keyboard.press("Enter")
    expect(ui.page).to_have_url(re.compile(r"/contacts\?q="))
    ui.page.get_by_role("link", name=address).click()
    expect(ui.page.get_by_role("heading", name=address, level=1)).to_be_visible()
