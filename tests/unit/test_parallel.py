"""What `make test` runs side by side (tests/parallel.py): which tests one xdist worker runs
in a row, and that every test listed to run alone still exists under that name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from parallel import ALONE, WEB_ADMIN_SCOPE, is_alone, scope

TESTS = Path(__file__).resolve().parents[1]
# Explicit ids below: the root conftest counts a test whose id holds "[sqlite" as a storage
# test of that backend.


@pytest.mark.parametrize(("nodeid", "expected"), [
    # `make run` rebuilds web-admin/dist: never while a browser test serves it.
    ("tests/browser/test_overview.py::test_the_overview_fits_a_phone", WEB_ADMIN_SCOPE),
    ("tests/e2e/test_server_process.py::test_make_run_sets_up_serves_and_prints_the_login",
     WEB_ADMIN_SCOPE),
    ("tests/e2e/test_request_host.py::test_two_host_headers_are_refused[click-same-twice]",
     "e2e/test_request_host.py"),
    ("tests/integration/test_api_tokens.py::test_secret_is_stored_hashed[sqlite]",
     "tests/integration/test_api_tokens.py::test_secret_is_stored_hashed[sqlite]"),
    ("tests/unit/test_redirect.py::test_x", "tests/unit/test_redirect.py::test_x"),
], ids=["browser", "make-run", "e2e-module", "integration", "unit"])
def test_a_module_with_servers_stays_on_one_worker_and_other_tests_are_handed_out_one_by_one(
    nodeid: str, expected: str
) -> None:
    assert scope(nodeid) == expected


@pytest.mark.parametrize(("nodeid", "alone"), [
    ("tests/browser/test_demo.py::test_the_demo_login_sees_the_story_on_every_page", True),
    ("tests/e2e/test_two_nodes.py::test_every_acknowledged_hit_is_stored_once_when_a_node_dies"
     "_under_load", True),
    ("tests/e2e/test_smtp_logging.py::test_logging_a_large_message_does_not_stall_the_server"
     "[sqlite]", True),
    ("tests/e2e/test_smtp_logging.py::test_forwarded_mail_logs_the_forwarded_message[sqlite]",
     False),
    ("tests/integration/test_webhooks.py::test_the_background_dispatcher_delivers_as_soon_as"
     "_woken_twice[sqlite]", False),
], ids=["browser", "listed-module", "listed-test", "its-neighbour", "a-longer-name"])
def test_alone_means_the_listed_module_or_test_and_nothing_else(nodeid: str, alone: bool) -> None:
    assert is_alone(nodeid) is alone


@pytest.mark.parametrize("entry", ALONE)
def test_every_test_listed_to_run_alone_exists(entry: str) -> None:
    path, _, name = entry.partition("::")
    assert (TESTS / path).exists(), f"{path} is gone: ALONE in tests/parallel.py names it"
    if name:
        source = (TESTS / path).read_text()
        assert re.search(rf"^(async )?def {re.escape(name)}\(", source, re.MULTILINE), \
            f"{entry} is gone: ALONE in tests/parallel.py names it"
