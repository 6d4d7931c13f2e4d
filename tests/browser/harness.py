"""What browser tests share (fixtures are in conftest.py): the served site, a watched page,
and signing in with the keyboard."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from e2e.processes import Server
from playwright.sync_api import ConsoleMessage, Page, Request, Response, expect
from support import PASSWORD, Tenant

SCREENSHOTS = Path(__file__).parent / "screenshots"


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

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        failed = re.match(r"Failed to load resource: the server responded with a status of (\d+)",
                          message.text)
        if failed and self._is_expected(message.location.get("url", ""), int(failed.group(1))):
            return
        self.problems.append(f"console error: {message.text} ({message.location})")

    def on_response(self, response: Response) -> None:
        if response.status >= 400 and not self._is_expected(response.url, response.status):
            self.problems.append(f"HTTP {response.status} for {response.request.method} "
                                 f"{response.url}")

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
