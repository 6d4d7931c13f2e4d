"""Signals without a release (issue 17, item 4): an operator's own signal files, checked
by `sendtrail signals check` and used by the server, with the ruleset version naming them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from support import FakeClock, engagement_nodes, gql_data, pixel_path, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.settings import Settings

SENDTRAIL = str(Path(sys.executable).with_name("sendtrail"))
NEW_SCANNER = "Mozilla/5.0 (compatible; AcmeMailGuard/4.2)"
AGENTS = (
    "pattern,category,verdict,reason\n"
    "# a scanner our customers' gateway started using this week\n"
    'AcmeMailGuard/,security_scanner,machine,"AcmeMailGuard scans every message on '
    'delivery for the customer\'s gateway."\n'
)
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } } }"""
EMAIL = """query($id: ID!) { email(id: $id) { engagements(filter: {verdicts: [MACHINE]}) {
  edges { node { verdict category reasons ruleset } } } } }"""
HUMANS = """query($id: ID!) { email(id: $id) { engagements { edges { node { id verdict } } } } }"""
WEBHOOK = """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
  endpoint { id } } }"""
DELIVERIES = """query($id: ID!) { webhookEndpoint(id: $id) {
  deliveries(first: 50) { edges { node { eventType payload } } } } }"""
AUDIT = "{ auditLog(first: 50) { edges { node { action summary } } } }"
REPORT = """query($i: EngagementReportInput) { engagementReport(input: $i) {
  totals { humanOpens machineOpens } } }"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A loopback webhook receiver allowed, and no dispatcher: queued deliveries are the proof."""
    return replace(settings, notifications=replace(
        settings.notifications, webhook_allow_loopback=True, webhook_dispatcher=False))


def _check(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SENDTRAIL_DATA_DIR": str(folder.parent / "data")}
    return subprocess.run([SENDTRAIL, "signals", "check", "--dir", str(folder)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_check_names_the_file_line_and_reason_of_a_bad_row(tmp_path: Path) -> None:
    folder = tmp_path / "signals"
    folder.mkdir()
    (folder / "user_agents.csv").write_text(
        AGENTS + '"Broken(Guard",security_scanner,machine,"An unclosed bracket."\n')
    result = _check(folder)
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()  # one line, no traceback
    assert f"{folder / 'user_agents.csv'} line 4" in line
    assert "missing ), unterminated subpattern" in line


def test_check_says_what_a_good_folder_adds(tmp_path: Path) -> None:
    folder = tmp_path / "signals"
    folder.mkdir()
    (folder / "user_agents.csv").write_text(AGENTS)
    (folder / "networks.csv").write_text(
        "network,category,reason\n"
        '198.18.40.0/24,security_gateway,"This address belongs to AcmeMailGuard."\n')
    result = _check(folder)
    assert result.returncode == 0, result.stderr
    assert "+local-" in result.stdout
    assert "1 user-agent and 1 network rows of yours" in result.stdout


def test_a_file_with_another_name_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "signals"
    folder.mkdir()
    (folder / "agents.csv").write_text(AGENTS)
    result = _check(folder)
    assert result.returncode != 0
    assert "agents.csv is not read" in result.stderr


@pytest.fixture
def with_own_signals(settings: Settings, clock: FakeClock,
                     tmp_path: Path) -> Iterator[TestClient[Any]]:
    folder = tmp_path / "own-signals"
    folder.mkdir()
    (folder / "user_agents.csv").write_text(AGENTS)
    own = replace(settings, tracking=replace(settings.tracking, signals_dir=folder))
    with TestClient(create_app(own, clock=clock), base_url="http://testserver.local") as client:
        yield client


def test_the_server_judges_with_the_operators_rows_and_records_their_version(
    with_own_signals: TestClient[Any], database_url: str, clock: FakeClock
) -> None:
    tenant = run(seed_tenant(database_url, "Own signals", seats={}))
    prepared = gql_data(with_own_signals, PREPARE, {"i": {
        "subject": "Hello", "html": "<p>Hello</p>", "recipients": [{"address": "a@b.test"}]}},
        token=tenant.admin_token, field="prepareEmail")
    clock.advance(3600)  # an hour later: only the operator's row can call it a machine
    with_own_signals.get(pixel_path(prepared["messages"][0]["html"]),
                         headers={"User-Agent": NEW_SCANNER})
    email = gql_data(with_own_signals, EMAIL, {"id": prepared["email"]["id"]},
                     token=tenant.admin_token, field="email")
    (machine,) = engagement_nodes(email)
    assert (machine["verdict"], machine["category"]) == ("MACHINE", "security_scanner")
    assert machine["reasons"][0].startswith("AcmeMailGuard scans every message on delivery")
    assert "+local-" in machine["ruleset"]  # which rules judged it


def test_reclassify_judges_stored_hits_again_with_a_new_signal_file_and_audits_it(
    app_client: TestClient[Any], database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    tenant = run(seed_tenant(database_url, "Reclassify", seats={}))
    token = tenant.admin_token
    endpoint = gql_data(app_client, WEBHOOK, {"i": {
        "url": "http://127.0.0.1:9/hook", "eventTypes": ["engagement.reclassified"]}},
        token=token, field="createWebhookEndpoint")["endpoint"]["id"]
    prepared = gql_data(app_client, PREPARE, {"i": {
        "subject": "Hello", "html": "<p>Hello</p>", "recipients": [{"address": "a@b.test"}]}},
        token=token, field="prepareEmail")
    email_id = prepared["email"]["id"]
    clock.advance(3600)
    app_client.get(pixel_path(prepared["messages"][0]["html"]),
                   headers={"User-Agent": NEW_SCANNER})
    (human,) = engagement_nodes(gql_data(app_client, HUMANS, {"id": email_id}, token=token,
                                         field="email"))  # no rule knows it yet: a person
    day = {"since": (clock.now - timedelta(days=1)).isoformat(),
           "until": (clock.now + timedelta(days=1)).isoformat()}
    before = gql_data(app_client, REPORT, {"i": {"scope": "ACCOUNT", **day}}, token=token,
                      field="engagementReport")["totals"]
    assert (before["humanOpens"], before["machineOpens"]) == (1, 0)

    folder = tmp_path / "signals"
    folder.mkdir()
    (folder / "user_agents.csv").write_text(AGENTS)  # the gateway's scanner, named a week later
    env = {**os.environ, "SENDTRAIL_DATABASE_URL": database_url,
           "SENDTRAIL_SIGNALS_DIR": str(folder), "SENDTRAIL_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [SENDTRAIL, "reclassify", "--since", day["since"], "--until", day["until"],
         "--account", tenant.account_id],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "judged 1 engagements again in 1 accounts" in result.stdout
    assert "1 changed verdict" in result.stdout

    (machine,) = engagement_nodes(gql_data(app_client, EMAIL, {"id": email_id}, token=token,
                                           field="email"))
    assert (machine["verdict"], machine["category"]) == ("MACHINE", "security_scanner")
    assert "+local-" in machine["ruleset"]
    assert any(r.startswith("Judged again by `sendtrail reclassify`") for r in machine["reasons"])
    after = gql_data(app_client, REPORT, {"i": {"scope": "ACCOUNT", **day}}, token=token,
                     field="engagementReport")["totals"]
    assert (after["humanOpens"], after["machineOpens"]) == (0, 1)  # the reports follow (R30)
    (delivery,) = gql_data(app_client, DELIVERIES, {"id": endpoint}, token=token,
                           field="webhookEndpoint")["deliveries"]["edges"]
    data = delivery["node"]["payload"]["data"]
    assert delivery["node"]["eventType"] == "engagement.reclassified"
    assert (data["engagementId"], data["previousVerdict"], data["verdict"]) == (
        human["id"], "human", "machine")
    audit = [e["node"] for e in gql_data(app_client, AUDIT, token=token,
                                         field="auditLog")["edges"]]
    (entry,) = [e for e in audit if e["action"] == "engagements.reclassified"]
    assert "judged 1 engagement again with the rules" in entry["summary"]
    assert "1 changed verdict" in entry["summary"]


def test_reclassify_refuses_a_bad_date_in_words(tmp_path: Path) -> None:
    result = subprocess.run([SENDTRAIL, "reclassify", "--since", "last tuesday"],
                            env={**os.environ, "SENDTRAIL_DATA_DIR": str(tmp_path)},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert "--since takes a date or time such as 2026-12-01" in line
