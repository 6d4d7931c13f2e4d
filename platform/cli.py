"""The ``sendtrail`` command line (docs/architecture.md, public contract): migrate, serve, ..."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import shutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from sendtrail.errors import InvalidInput, SendtrailError
from sendtrail.settings import Settings, workers_count

__all__ = ["main"]


def _seat(value: str) -> Any:
    from sendtrail.tenancy.values import Seat

    try:
        return Seat(value.lower())
    except ValueError:
        known = ", ".join(seat.value for seat in Seat)
        raise InvalidInput(f"unknown seat {value!r}; use one of: {known}") from None


def _seat_counts(pairs: Sequence[str]) -> dict[Any, int]:
    counts = {}
    for pair in pairs:
        name, sep, number = pair.partition("=")
        if not sep or not number.strip().isdigit():
            raise InvalidInput(f"--seats takes SEAT=N (e.g. sales_starter=5), not {pair!r}")
        counts[_seat(name.strip())] = int(number)
    return counts


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\n")


def _run(settings: Settings, work: Callable[[Any], Awaitable[None]]) -> None:
    from sendtrail.db.engine import Database

    async def main() -> None:
        database = Database(settings.database.url)
        try:
            await work(database)
        finally:
            await database.dispose()

    asyncio.run(main())


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> None:
    from sendtrail.migrations import upgrade

    upgrade(settings.database.url)
    print("database is up to date")


def _serve_workers(settings: Settings, args: argparse.Namespace) -> int:
    from sendtrail.db.engine import async_url

    if args.workers is None:
        workers, given = settings.http.workers, f"SENDTRAIL_WORKERS={settings.http.workers}"
    else:
        workers = workers_count(args.workers, "--workers")
        given = f"--workers {workers}"
    if workers > 1 and not async_url(settings.database.url).startswith("postgresql"):
        raise InvalidInput(
            f"{given} needs PostgreSQL: on SQLite every write waits for the one "
            "database lock, so more processes only queue behind each other; serve with one "
            "process (the default) or set SENDTRAIL_DATABASE_URL to a PostgreSQL database"
        )
    return workers


def _share_metrics(directory: Path) -> None:
    """prometheus_client's multiprocess mode for the processes about to start (they inherit
    the variable and import the library after it is set): each writes its samples to files
    in ``directory`` and ``/metrics`` sums them. Emptied first: an earlier run's files would
    add up too. A gauge is shown per process (a ``pid`` label), a dead one's included."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from sendtrail.web.request_host import OneHostProtocol

    host = args.host or settings.http.host
    port = args.port if args.port is not None else settings.http.port
    # uvicorn's own supervisor, not granian (1.15-1.55x faster on bare paths here, equal
    # behind a litestar handler): OneHostProtocol is a uvicorn protocol class, and the
    # Host defence it carries (issue 12, defect 4) would have to be rebuilt for another
    # server. Each process builds the app from the environment (the factory below), as
    # the settings read here were; with N > 1 the parent binds the port once, supervises,
    # and the processes accept from that one socket.
    workers = _serve_workers(settings, args)
    _serve_signals(settings)
    if workers > 1:
        _share_metrics(settings.data_dir / "metrics")
    uvicorn.run(
        "sendtrail.app:app_from_env", factory=True, workers=workers,
        host=host, port=port, log_level="info", access_log=False,
        # Never uvicorn's own X-Forwarded-* handling (it believes 127.0.0.1 by default):
        # only SENDTRAIL_TRUSTED_PROXIES decides, in client_ip (issue 12, defect 3).
        proxy_headers=False,
        # An absolute-form request line's host replaces Host (issue 12, defect 4).
        http=OneHostProtocol,
    )


def cmd_derive(settings: Settings, _args: argparse.Namespace) -> None:
    """A deriver without a web server: raw hits acknowledged by any node become engagements
    here (PostgreSQL; partitions are shared with the servers' own derivers)."""
    import signal

    from sendtrail.db.types import utcnow
    from sendtrail.notifications.fanout import PostgresFanout
    from sendtrail.notifications.outbox import WebhookOutbox
    from sendtrail.tracking.deriver import Deriver
    from sendtrail.tracking.signals import load_signals
    from sendtrail.tracking.stream import EngagementStream

    if not settings.database.url.startswith("postgresql"):
        raise InvalidInput("`sendtrail derive` needs PostgreSQL: on SQLite the server derives "
                           "the hits it stores itself, in its one process")

    async def work(database: Any) -> None:
        # Live events reach every node's subscribers by NOTIFY; webhooks by the outbox.
        sinks = (PostgresFanout(settings.database.url, EngagementStream()),
                 WebhookOutbox(clock=utcnow))
        signals = load_signals(settings.tracking.signals_dir)
        deriver = Deriver(database.engine, signals=signals, sinks=sinks,
                          batch=settings.tracking.derive_batch,
                          poll_seconds=settings.tracking.derive_poll_seconds)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stopping.set)
        await deriver.start()
        print("deriving raw hits; stop with SIGTERM", flush=True)
        await stopping.wait()
        await deriver.stop()

    _run(settings, work)


def cmd_demo(settings: Settings, _args: argparse.Namespace) -> None:
    from sendtrail.demo import ensure_demo

    async def work(database: Any) -> None:
        for line in await ensure_demo(database, settings):
            print(line)

    _run(settings, work)


def cmd_accounts_create(settings: Settings, args: argparse.Namespace) -> None:
    from sendtrail.tenancy.onboarding import create_account

    async def work(database: Any) -> None:
        async with database.session(account_id=None) as session:
            account, _ = await create_account(
                session,
                name=args.name,
                admin_email=args.admin_email,
                seats=_seat_counts(args.seats),
            )
        print(account.id)

    _run(settings, work)


def cmd_users_add(settings: Settings, args: argparse.Namespace) -> None:
    from sendtrail.tenancy import audit
    from sendtrail.tenancy.accounts import find_account_by_slug_or_id
    from sendtrail.tenancy.users import add_user_row
    from sendtrail.tenancy.values import Role

    async def work(database: Any) -> None:
        async with database.session(account_id=None) as lookup:
            account = await find_account_by_slug_or_id(lookup, args.account)
        async with database.session(account_id=account.id) as session:
            try:
                role = Role(args.role.lower())
            except ValueError:
                raise InvalidInput("--role must be admin or user") from None
            user = await add_user_row(
                session, account.id, email=args.email, name=args.name, role=role,
                seat=_seat(args.seat),
            )
            audit.record(session, "cli", account.id, action="user.invited",
                         target=f"user:{user.email}",
                         after={"email": user.email, "role": user.role, "seat": user.seat})
            await session.commit()
        print(user.id)

    _run(settings, work)


def cmd_users_set_password(settings: Settings, args: argparse.Namespace) -> None:
    from sendtrail.tenancy.auth import set_password

    password = _read_password("New password: ")

    async def work(database: Any) -> None:
        async with database.session(account_id=None) as session:
            await set_password(session, email=args.email, password=password)
        print("password set; existing sessions were signed out")

    _run(settings, work)


def cmd_tokens_create(settings: Settings, args: argparse.Namespace) -> None:
    from sendtrail.db.types import utcnow
    from sendtrail.tenancy.accounts import find_account_by_slug_or_id
    from sendtrail.tenancy.tokens import create_api_token, parse_scopes
    from sendtrail.tenancy.users import login_for_email, normalize_email, user_for_login
    from sendtrail.tenancy.values import Principal, Role

    async def work(database: Any) -> None:
        async with database.session(account_id=None) as lookup:
            account = await find_account_by_slug_or_id(lookup, args.account)
            login = await login_for_email(lookup, normalize_email(args.user))
            user = await user_for_login(lookup, login) if login else None
        if login is None or user is None or user.account_id != account.id:
            raise InvalidInput(f"No user {args.user!r} in account {args.account!r}.")
        # The CLI acts as the user, creating their own token (so role limits still apply).
        actor = Principal(login_id=login.id, email=user.email, account_id=account.id,
                          user_id=user.id, role=Role(user.role))
        async with database.session(account_id=account.id) as session:
            _, secret = await create_api_token(
                session, actor, account.id, name=args.name,
                scopes=parse_scopes(args.scope or ["read", "write"]), now=utcnow(),
            )
        print(secret)

    _run(settings, work)


def cmd_support_grant(settings: Settings, args: argparse.Namespace) -> None:
    from sendtrail.tenancy.auth import grant_support
    from sendtrail.tenancy.credentials import new_secret

    password = args.password or new_secret(12)

    async def work(database: Any) -> None:
        async with database.session(account_id=None) as session:
            await grant_support(session, email=args.email, password=password)
        print(f"login: {args.email}")
        if not args.password:
            print(f"password: {password}")

    _run(settings, work)


def cmd_export_schema(_settings: Settings | None, args: argparse.Namespace) -> None:
    from sendtrail.graphql.schema import schema_sdl

    sdl = schema_sdl()
    target = Path(args.output)
    if args.check:
        if not target.exists() or target.read_text() != sdl:
            raise InvalidInput(f"{target} is stale; run `sendtrail export-schema`")
        print(f"{target} is current")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(sdl)
    print(f"wrote {target}")


def _add_classification_commands(commands: Any) -> None:
    """``signals check`` and ``reclassify`` (R30, issue 17)."""
    signals = commands.add_parser("signals").add_subparsers(dest="sub", required=True)
    check = signals.add_parser("check", help="check your own signal files (SIGNALS_DIR)")
    check.add_argument("--dir", help="the folder (default: SENDTRAIL_SIGNALS_DIR)")
    check.set_defaults(func=cmd_signals_check)

    again = commands.add_parser("reclassify", help="judge stored engagements again with the "
                                "signals as they are now (audited)")
    again.add_argument("--since", required=True, help="from this date or time (ISO 8601)")
    again.add_argument("--until", help="until this date or time (default: now)")
    again.add_argument("--account", help="only this account (its id)")
    again.set_defaults(func=cmd_reclassify)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sendtrail", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="create or upgrade the schema").set_defaults(
        func=cmd_migrate
    )
    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", metavar="N",
                       help="server processes (PostgreSQL only beyond 1; default: "
                            "SENDTRAIL_WORKERS, else 1)")
    serve.set_defaults(func=cmd_serve)
    commands.add_parser("demo", help="create the demo account").set_defaults(func=cmd_demo)
    commands.add_parser(
        "derive", help="derive raw hits into engagements, without serving (PostgreSQL)"
    ).set_defaults(func=cmd_derive)

    accounts = commands.add_parser("accounts").add_subparsers(dest="sub", required=True)
    create = accounts.add_parser("create", help="create an account and its first admin")
    create.add_argument("name")
    create.add_argument("--admin-email", required=True)
    create.add_argument("--seats", nargs="*", default=[], metavar="SEAT=N")
    create.set_defaults(func=cmd_accounts_create)

    users = commands.add_parser("users").add_subparsers(dest="sub", required=True)
    add = users.add_parser("add", help="add a user to an account")
    add.add_argument("--account", required=True, help="account id or slug")
    add.add_argument("--email", required=True)
    add.add_argument("--name")
    add.add_argument("--role", default="user")
    add.add_argument("--seat", default="free")
    add.set_defaults(func=cmd_users_add)
    set_password = users.add_parser("set-password", help="set a password (read from stdin)")
    set_password.add_argument("--email", required=True)
    set_password.set_defaults(func=cmd_users_set_password)

    tokens = commands.add_parser("tokens").add_subparsers(dest="sub", required=True)
    token = tokens.add_parser("create", help="print a new API token")
    token.add_argument("--account", required=True, help="account id or slug")
    token.add_argument("--user", required=True, help="email of the user the token acts as")
    token.add_argument("--scope", action="append",
                       help="read, write, admin or send (repeatable; send: the relay only)")
    token.add_argument("--name", default="created with the CLI")
    token.set_defaults(func=cmd_tokens_create)

    support = commands.add_parser("support").add_subparsers(dest="sub", required=True)
    grant = support.add_parser("grant", help="create a support-staff login")
    grant.add_argument("--email", required=True)
    grant.add_argument("--password", help="generated and printed when omitted")
    grant.set_defaults(func=cmd_support_grant)

    _add_classification_commands(commands)

    export = commands.add_parser("export-schema", help="write the GraphQL schema (SDL)")
    export.add_argument("--output", default="web-admin/schema.graphql")
    export.add_argument("--check", action="store_true", help="fail if the file is stale")
    export.set_defaults(func=cmd_export_schema, needs_settings=False)
    return parser


def cmd_signals_check(settings: Settings, args: argparse.Namespace) -> None:
    """Parse an operator's signal files as the server would, and say what they add."""
    from sendtrail.tracking.signals import SignalsError, load_signals

    folder = Path(args.dir).resolve() if args.dir else settings.tracking.signals_dir
    if folder is None:
        raise InvalidInput("name the folder with --dir or SENDTRAIL_SIGNALS_DIR")
    try:
        own, shipped = load_signals(folder), load_signals()
    except SignalsError as error:
        raise InvalidInput(str(error)) from None
    added_agents = len(own.user_agents) - len(shipped.user_agents)
    added_networks = len(own.networks) - len(shipped.networks)
    print(f"ok: ruleset {own.version}: {added_agents} user-agent and {added_networks} network "
          f"rows of yours, read before the {len(shipped.user_agents)} and "
          f"{len(shipped.networks)} shipped")


def cmd_reclassify(settings: Settings, args: argparse.Namespace) -> None:
    """Judge stored engagements again with the signals as they are now (R30)."""
    import uuid
    from datetime import UTC, datetime

    from sendtrail.db.engine import Database
    from sendtrail.notifications.fanout import PostgresFanout
    from sendtrail.notifications.outbox import WebhookOutbox
    from sendtrail.tracking.reclassify import reclassify
    from sendtrail.tracking.signals import SignalsError, load_signals
    from sendtrail.tracking.stream import EngagementStream, EventSink

    def moment(text: str, flag: str) -> datetime:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(f"{flag} takes a date or time such as 2026-12-01 or "
                               f"2026-12-01T09:00Z, not {text!r}") from None
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    since = moment(args.since, "--since")
    until = moment(args.until, "--until") if args.until else datetime.now(UTC)
    try:
        account = uuid.UUID(args.account) if args.account else None
    except ValueError:
        raise InvalidInput(f"--account takes an account id, not {args.account!r}") from None
    try:
        signals = load_signals(settings.tracking.signals_dir)
    except SignalsError as error:
        raise InvalidInput(f"{error} (run `sendtrail signals check`)") from None

    async def main() -> None:
        database = Database(settings.database.url)
        sinks: list[EventSink] = [WebhookOutbox()]
        if settings.database.url.startswith("postgresql"):  # live subscribers on any node
            sinks.append(PostgresFanout(settings.database.url, EngagementStream()))
        try:
            run = await reclassify(database.engine, signals, since=since, until=until,
                                   account_id=account, sinks=sinks)
        finally:
            await database.dispose()
        print(f"judged {run.judged} engagements again in {len(run.accounts)} accounts with "
              f"the rules {run.ruleset}: {run.changed} changed verdict")

    asyncio.run(main())


def _serve_signals(settings: Settings) -> None:
    """Refuse to start on broken signal files, in one line (not a traceback per process)."""
    from sendtrail.tracking.signals import SignalsError, load_signals

    try:
        load_signals(settings.tracking.signals_dir)
    except SignalsError as error:
        raise InvalidInput(f"{error} (run `sendtrail signals check`)") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # Only commands that touch data read settings (which may generate the secret key).
        settings = Settings.from_env() if getattr(args, "needs_settings", True) else None
        args.func(settings, args)
    except SendtrailError as error:
        print(f"sendtrail: error: {error.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
