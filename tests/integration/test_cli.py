"""The `sendtrail` command line (docs/architecture.md): output scripts can use, one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support import gql

from sendtrail.cli import main


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("SENDTRAIL_DATABASE_URL", database_url)
    monkeypatch.setenv("SENDTRAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SENDTRAIL_PUBLIC_URL", "http://testserver.local")

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", __import__("io").StringIO(stdin))
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_create_account_add_users_and_a_token_that_works(cli: Any, client: Any) -> None:
    code, out, _ = cli("accounts", "create", "Initech", "--admin-email", "boss@initech.test",
                       "--seats", "sales_starter=1", "sales_enterprise=2")
    assert code == 0
    account_id = out.strip()
    code, out, _ = cli("users", "add", "--account", account_id, "--email", "pat@initech.test",
                       "--seat", "sales_starter")
    assert code == 0
    assert len(out.strip()) == 36  # the new user's id
    code, out, err = cli("tokens", "create", "--account", "initech", "--user",
                         "boss@initech.test", "--scope", "read", "--scope", "admin")
    assert (code, err) == (0, "")
    (token,) = out.split()
    assert token.startswith("st_")
    body = gql(client, "{ viewer { email role } account { name seats { seat purchased used } } }",
               token=token)
    assert body["data"]["viewer"] == {"email": "boss@initech.test", "role": "ADMIN"}
    seats = {s["seat"]: (s["purchased"], s["used"]) for s in body["data"]["account"]["seats"]}
    assert seats == {"FREE": (None, 1), "SALES_STARTER": (1, 1), "SALES_PROFESSIONAL": (0, 0),
                     "SALES_ENTERPRISE": (2, 0)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "add", "--email", "x@initech.test", "--seat", "gold"),
         "unknown seat 'gold'; use one of: free, sales_starter"),
        (("users", "add", "--email", "x@initech.test", "--seat", "sales_professional"),
         "All 0 Sales Professional seat(s) of this account are in use"),
        (("users", "add", "--email", "boss@initech.test"),
         "A user with the email address boss@initech.test already exists"),
        (("users", "add", "--email", "not-an-email"), "is not a valid email address"),
        (("users", "add", "--email", "x@initech.test", "--role", "owner"),
         "--role must be admin or user"),
        (("tokens", "create", "--user", "nobody@initech.test"), "No user 'nobody@initech.test'"),
        (("tokens", "create", "--user", "boss@initech.test", "--scope", "root"),
         "Unknown token scope 'root'"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(cli: Any, args: tuple[str, ...],
                                                message: str) -> None:
    assert cli("accounts", "create", "Initech", "--admin-email", "boss@initech.test")[0] == 0
    code, out, err = cli(args[0], args[1], "--account", "initech", *args[2:])
    assert code == 2
    assert out == ""
    assert err.startswith("sendtrail: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_bad_seat_syntax_and_unknown_account(cli: Any) -> None:
    code, _, err = cli("accounts", "create", "X", "--admin-email", "a@x.test", "--seats", "five")
    assert code == 2
    assert "SEAT=N" in err
    code, _, err = cli("users", "add", "--account", "nope", "--email", "a@x.test")
    assert code == 2
    assert "No account with id or slug 'nope'" in err


def test_support_grant_creates_a_staff_login(cli: Any, client: Any) -> None:
    code, out, _ = cli("support", "grant", "--email", "ops@sendtrail.test")
    assert code == 0
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    response = client.post("/auth/login", json={"email": lines["login"],
                                                "password": lines["password"]})
    assert response.status_code == 200
    assert response.json()["isStaff"] is True
    assert cli("support", "grant", "--email", "ops@sendtrail.test")[0] == 2


def test_set_password_reads_stdin_and_signs_in(cli: Any, client: Any) -> None:
    cli("accounts", "create", "Initech", "--admin-email", "boss@initech.test")
    assert cli("users", "set-password", "--email", "boss@initech.test",
               stdin="a new long password\n")[0] == 0
    ok = client.post("/auth/login", json={"email": "boss@initech.test",
                                          "password": "a new long password"})
    assert ok.status_code == 200
    code, _, err = cli("users", "set-password", "--email", "boss@initech.test", stdin="short\n")
    assert code == 2
    assert "at least 10 characters" in err


def test_demo_is_created_once_and_prints_a_working_login(cli: Any, client: Any) -> None:
    outputs = [cli("demo")[1] for _ in range(2)]
    for out in outputs:
        lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
        assert set(lines) == {"web admin", "login", "password", "token", "relay",
                              "relay password", "demo data"}
        signed_in = client.post("/auth/login", json={"email": lines["login"],
                                                     "password": lines["password"]})
        assert signed_in.status_code == 200
        body = gql(client, "{ viewer { email account { name } } users { edges { node "
                   "{ seat } } } }", token=lines["token"])
        assert body["data"]["viewer"] == {"email": lines["login"], "account": {"name": "Demo"}}
        seats = sorted(e["node"]["seat"] for e in body["data"]["users"]["edges"])
        assert seats == ["FREE", "SALES_PROFESSIONAL", "SALES_STARTER"]  # free and paid seats


@pytest.mark.parametrize(
    ("args", "workers_env", "message"),
    [
        (("serve", "--workers", "2"), None, "--workers 2 needs PostgreSQL: on SQLite every "
                                             "write waits for the one database lock"),
        (("serve",), "3", "SENDTRAIL_WORKERS=3 needs PostgreSQL"),
        (("serve", "--workers", "0"), None, "--workers must be a whole number of processes, "
                                            "1 or more, not '0'"),
        (("serve",), "many", "SENDTRAIL_WORKERS must be a whole number of processes"),
    ],
)
def test_serve_refuses_workers_sqlite_cannot_use_with_one_line(
    args: tuple[str, ...], workers_env: str | None, message: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SENDTRAIL_DATABASE_URL", f"sqlite:///{tmp_path / 'sendtrail.db'}")
    monkeypatch.setenv("SENDTRAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SENDTRAIL_WORKERS", raising=False)
    if workers_env is not None:
        monkeypatch.setenv("SENDTRAIL_WORKERS", workers_env)
    assert main(list(args)) == 2  # refused before anything listens
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("sendtrail: error: ")
    assert message in captured.err
    assert captured.err.count("\n") == 1
