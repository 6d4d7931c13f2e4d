"""Typed settings, read from ``SENDTRAIL_*`` environment variables once, at start-up.

One frozen dataclass per concern; ``Settings.from_env()`` is the only place that reads the
environment. Tests build their own ``Settings`` directly.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sendtrail.errors import InvalidInput

__all__ = [
    "AuthSettings",
    "DatabaseSettings",
    "DomainSettings",
    "GraphQLSettings",
    "HttpSettings",
    "MetricsSettings",
    "NotificationSettings",
    "SecretSettings",
    "SendingSettings",
    "Settings",
    "SmtpSettings",
    "TrackingSettings",
    "workers_count",
]

PREFIX = "SENDTRAIL_"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    """SQLAlchemy URL: ``sqlite:///path`` (embedded default) or ``postgresql://...``."""


@dataclass(frozen=True)
class HttpSettings:
    host: str = "127.0.0.1"
    """Interface ``sendtrail serve`` binds to unless ``--host`` is given."""
    port: int = 8000
    """Port ``sendtrail serve`` binds to unless ``--port`` is given."""
    workers: int = 1
    """Server processes ``sendtrail serve`` runs unless ``--workers`` is given; more than
    one needs PostgreSQL (on SQLite every write waits for the one database lock)."""
    public_url: str = "http://127.0.0.1:8000"
    """Where the API and the web admin are reached (also the allowed browser origin)."""
    trusted_proxies: tuple[str, ...] = ()
    """Peers (addresses or CIDRs) whose ``X-Forwarded-For`` header is believed."""
    debug: bool = False
    """Serve GraphiQL and show tracebacks; never in production."""


@dataclass(frozen=True)
class GraphQLSettings:
    introspection: bool = False
    """Answer ``__schema`` and ``__type`` (on with SENDTRAIL_DEBUG unless set): off in
    production, where ``sendtrail export-schema`` publishes the schema instead."""
    suggestions: bool = False
    """Add graphql-core's "Did you mean ...?" hints (fields, arguments, enum values, types)
    to error messages; they let a stranger map the schema (on with SENDTRAIL_DEBUG unless set)."""


@dataclass(frozen=True)
class AuthSettings:
    session_cookie_secure: bool = False
    """Send the session cookie only over HTTPS (turn on whenever public_url is https)."""
    session_ttl_seconds: int = 12 * 3600
    """How long a web-admin session lasts without activity."""
    login_free_failures: int = 3
    """Failed logins per email address within the window before each further attempt
    waits (``login_backoff_seconds``, doubling per failure)."""
    login_backoff_seconds: int = 1
    """The first wait after the free failures, counted from the last failure."""
    login_backoff_max_seconds: int = 60
    """The longest wait, so guessing never locks the address's owner out for long."""
    login_max_failures_per_ip: int = 20
    """Failed logins allowed per client address within the window before refusing."""
    login_window_seconds: int = 15 * 60
    """The sliding window in which failures count, per address and per client address."""
    invitation_ttl_hours: int = 7 * 24
    """How long an invitation link works (``SENDTRAIL_INVITATION_TTL_HOURS``)."""


@dataclass(frozen=True)
class TrackingSettings:
    base_url: str = "http://127.0.0.1:8000"
    """Default tracking host for pixels and links (the public URL unless set)."""
    default_domain: str = "track.sendtrail.test"
    """Default tracking domain of the ``<shard>.<region>.<domain>`` scheme (R20)."""
    deriver: bool = True
    """Run a deriver in this process (raw hits → engagements; any number of processes may)."""
    derive_batch: int = 512
    """Raw hits per derivation transaction."""
    derive_poll_seconds: float = 0.2
    """How often the deriver looks for hits other processes acknowledged."""
    derive_busy_share: float = 0.1
    """The most of this process the deriver takes while hits keep arriving and fewer than
    50,000 wait (acknowledging comes first; more keeps live notifications closer behind a
    saturating load, at the cost of acknowledgement throughput)."""
    answer_after_derivation: bool = False
    """Derive a hit before answering it (one stage): for tests whose next read must see the
    engagement. Production answers after the raw hit is stored (issue 14)."""
    signals_dir: Path | None = None
    """An operator's own signal files (``user_agents.csv``, ``networks.csv``), read before
    the shipped ones so their rows win; check them with ``sendtrail signals check``."""


@dataclass(frozen=True)
class SmtpSettings:
    port: int = 2525
    """Inbound SMTP logging listener port; 0 turns it off."""
    logging_domain: str = "log.sendtrail.test"
    """Mail domain of the accounts' logging addresses (MX pointing at this server)."""


@dataclass(frozen=True)
class NotificationSettings:
    allowed_origins: tuple[str, ...] = ()
    """Browser origins (besides the public URL) whose pages may open the GraphQL WebSocket."""
    socket_init_timeout_seconds: float = 10.0
    """A WebSocket that has not sent ``connection_init`` by then is closed (4408)."""
    socket_idle_timeout_seconds: float = 300.0
    """A WebSocket with no subscription and no message for this long is closed."""
    webhook_dispatcher: bool = True
    """Whether this ``sendtrail serve`` process delivers webhooks (any number may)."""
    webhook_timeout_seconds: float = 10.0
    """How long one delivery attempt may take (connect + response) before it counts as failed."""
    webhook_allow_loopback: bool = False
    """Allow webhook URLs on loopback addresses (tests, local development); never private
    or link-local ones."""
    webhook_poll_seconds: float = 1.0
    """How often an idle dispatcher looks for due messages."""


@dataclass(frozen=True)
class DomainSettings:
    cert_dir: Path | None = None
    """Where active domains' certificates and keys are written for the TLS front (nginx
    loads ``<hostname>.crt`` / ``<hostname>.key`` by SNI); ``<data_dir>/certs`` when unset."""
    cert_group: str | None = None
    """A group that may read the certificate files (the TLS front's workers, e.g.
    www-data): files become 0640 and the directory 0750; owner-only otherwise."""
    worker: bool = True
    """Whether this ``sendtrail serve`` process verifies, issues and renews (any may)."""
    caa_identifiers: tuple[str, ...] = ("letsencrypt.org",)
    """CA domains a CAA record must allow for issuance to be attempted."""
    recheck_seconds: float = 3600.0
    """How often an ACTIVE domain's DNS is verified again."""
    poll_seconds: float = 5.0
    """How often an idle worker looks for due work."""


@dataclass(frozen=True)
class SendingSettings:
    """Sending (R26, R27): the SMTP submission relay and the delivery worker."""

    submission_port: int = 0
    """SMTP submission relay port (e.g. 587); 0 turns the relay off."""
    submission_host: str = "127.0.0.1"
    """Interface the relay binds to (the HTTP host unless set)."""
    submission_tls_cert: Path | None = None
    """PEM certificate chain for STARTTLS; without it and the key, no STARTTLS is offered
    and AUTH is accepted only on a loopback listener."""
    submission_tls_key: Path | None = None
    """PEM private key for STARTTLS."""
    outbound_allow_private: bool = False
    """Allow loopback, private and link-local upstream SMTP and IMAP hosts (and security
    NONE towards them): tests and on-premises mail servers only."""
    outbound_ca_bundle: Path | None = None
    """PEM CA certificates trusted for upstream SMTP and IMAP TLS instead of the system's
    (an internal CA; tests use their own)."""
    max_message_bytes: int = 25 * 1024 * 1024
    """Largest message the relay accepts (announced as SIZE)."""
    max_recipients: int = 100
    """Most recipients per message (452 beyond)."""
    sends_per_hour: int = 500
    """Messages one user may submit per rolling hour (451 beyond)."""
    delivery_worker: bool = True
    """Run the delivery worker in this process (any number of nodes may)."""
    delivery_poll_seconds: float = 1.0
    """How often the worker looks for due deliveries when idle."""
    delivery_timeout_seconds: float = 60.0
    """Longest one delivery attempt may take (connect, TLS, login, DATA)."""
    delivery_retry_seconds: tuple[float, ...] = (
        30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200,
    )
    """Waits after each failed attempt of a temporary failure (4xx, network, TLS): about
    a day in all; the copy fails after the last."""
    helo_name: str = "sendtrail.localhost"
    """The name this server gives in EHLO to upstream servers and in the relay's greeting."""


@dataclass(frozen=True)
class SecretSettings:
    keys: tuple[str, ...]
    """Signing/encryption keys, newest first; the first signs, all verify."""


@dataclass(frozen=True)
class MetricsSettings:
    token: str | None = None
    """The bearer token ``GET /metrics`` requires (``Authorization: Bearer <token>``, at
    least 16 characters). Unset: ``/metrics`` answers only requests made on this machine
    (a loopback peer, with no ``X-Forwarded-For``, ``Forwarded`` or ``X-Real-IP``)."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    """Where the SQLite file, blobs, spool and certificates live."""
    database: DatabaseSettings
    secrets: SecretSettings
    http: HttpSettings = field(default_factory=HttpSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    domains: DomainSettings = field(default_factory=DomainSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    graphql: GraphQLSettings = field(default_factory=GraphQLSettings)
    sending: SendingSettings = field(default_factory=SendingSettings)
    acme_directory_url: str = "https://acme-staging-v02.api.letsencrypt.org/directory"
    """ACME directory (Let's Encrypt in production, Pebble in tests)."""
    acme_ca_bundle: str | None = None
    """CA bundle trusted for the ACME server; the system store when unset."""
    dns_nameservers: tuple[str, ...] = ()
    """``host:port`` servers used to verify tracking domains; the system resolver if empty."""
    blob_dir: Path | None = None
    """Where attachments are stored (content-addressed); ``<data_dir>/blobs`` when unset."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str, default: str = "") -> str:
            return env.get(PREFIX + name, default).strip()

        data_dir = Path(get("DATA_DIR", "var")).resolve()
        debug = _bool(get("DEBUG", "false"), "DEBUG")
        public_url = get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
        return cls(
            data_dir=data_dir,
            database=DatabaseSettings(
                url=get("DATABASE_URL") or f"sqlite:///{data_dir / 'sendtrail.db'}"
            ),
            secrets=SecretSettings(keys=_secret_keys(get("SECRET_KEYS"), data_dir)),
            http=HttpSettings(
                host=get("HOST", "127.0.0.1"),
                port=_int(get("PORT", "8000"), "PORT"),
                workers=workers_count(get("WORKERS", "1"), f"{PREFIX}WORKERS"),
                public_url=public_url,
                trusted_proxies=_networks(get("TRUSTED_PROXIES"), "TRUSTED_PROXIES"),
                debug=debug,
            ),
            auth=AuthSettings(
                session_cookie_secure=_bool(
                    get("SESSION_COOKIE_SECURE", str(public_url.startswith("https:"))),
                    "SESSION_COOKIE_SECURE",
                ),
                invitation_ttl_hours=_positive(
                    _int(get("INVITATION_TTL_HOURS", "168"), "INVITATION_TTL_HOURS"),
                    "INVITATION_TTL_HOURS"),
            ),
            tracking=TrackingSettings(
                base_url=get("TRACKING_BASE_URL", public_url).rstrip("/"),
                default_domain=get("TRACKING_DOMAIN", "track.sendtrail.test"),
                deriver=_bool(get("DERIVER", "true"), "DERIVER"),
                derive_batch=_positive(_int(get("DERIVE_BATCH", "512"), "DERIVE_BATCH"),
                                       "DERIVE_BATCH"),
                derive_poll_seconds=_float(get("DERIVE_POLL_SECONDS", "0.2"),
                                           "DERIVE_POLL_SECONDS"),
                derive_busy_share=_share(get("DERIVE_BUSY_SHARE", "0.1"), "DERIVE_BUSY_SHARE"),
                answer_after_derivation=_bool(get("ANSWER_AFTER_DERIVATION", "false"),
                                              "ANSWER_AFTER_DERIVATION"),
                signals_dir=Path(get("SIGNALS_DIR")).resolve() if get("SIGNALS_DIR") else None,
            ),
            smtp=SmtpSettings(
                port=_int(get("SMTP_PORT", "2525"), "SMTP_PORT"),
                logging_domain=get("LOGGING_DOMAIN", "log.sendtrail.test"),
            ),
            notifications=NotificationSettings(
                allowed_origins=_origins(get("ALLOWED_ORIGINS"), "ALLOWED_ORIGINS"),
                socket_idle_timeout_seconds=_float(
                    get("SOCKET_IDLE_TIMEOUT", "300"), "SOCKET_IDLE_TIMEOUT"
                ),
                webhook_dispatcher=_bool(get("WEBHOOK_DISPATCHER", "true"), "WEBHOOK_DISPATCHER"),
                webhook_timeout_seconds=_float(get("WEBHOOK_TIMEOUT", "10"), "WEBHOOK_TIMEOUT"),
                webhook_allow_loopback=_bool(
                    get("WEBHOOK_ALLOW_LOOPBACK", "false"), "WEBHOOK_ALLOW_LOOPBACK"
                ),
            ),
            domains=DomainSettings(
                cert_dir=Path(get("CERT_DIR")).resolve() if get("CERT_DIR") else None,
                cert_group=get("CERT_GROUP") or None,
                worker=_bool(get("DOMAIN_WORKER", "true"), "DOMAIN_WORKER"),
                caa_identifiers=_csv(get("CAA_IDENTIFIERS", "letsencrypt.org")),
                recheck_seconds=_float(get("DOMAIN_RECHECK", "3600"), "DOMAIN_RECHECK"),
                poll_seconds=_float(get("DOMAIN_POLL", "5"), "DOMAIN_POLL"),
            ),
            metrics=MetricsSettings(token=_metrics_token(get("METRICS_TOKEN"))),
            graphql=GraphQLSettings(
                introspection=_bool(
                    get("GRAPHQL_INTROSPECTION", str(debug)), "GRAPHQL_INTROSPECTION"
                ),
                suggestions=_bool(get("GRAPHQL_SUGGESTIONS", str(debug)), "GRAPHQL_SUGGESTIONS"),
            ),
            sending=_sending_settings(get),
            acme_directory_url=get(
                "ACME_DIRECTORY_URL", "https://acme-staging-v02.api.letsencrypt.org/directory"
            ),
            acme_ca_bundle=get("ACME_CA_BUNDLE") or None,
            dns_nameservers=_csv(get("DNS_NAMESERVERS")),
            blob_dir=Path(get("BLOB_DIR")).resolve() if get("BLOB_DIR") else None,
        )


def _sending_settings(get: Callable[..., str]) -> SendingSettings:
    cert, key = get("SUBMISSION_TLS_CERT"), get("SUBMISSION_TLS_KEY")
    if bool(cert) != bool(key):
        raise InvalidInput(
            f"{PREFIX}SUBMISSION_TLS_CERT and {PREFIX}SUBMISSION_TLS_KEY go together: set both "
            "(PEM files) to offer STARTTLS on the relay, or neither"
        )
    for name, path in (("SUBMISSION_TLS_CERT", cert), ("SUBMISSION_TLS_KEY", key)):
        if path and not Path(path).is_file():
            raise InvalidInput(f"{PREFIX}{name}: no readable file at {path!r}")
    port = _int(get("SUBMISSION_PORT", "0"), "SUBMISSION_PORT")
    if not 0 <= port <= 65535:
        raise InvalidInput(f"{PREFIX}SUBMISSION_PORT must be 0 (off) or a port up to 65535")
    return SendingSettings(
        submission_port=port,
        submission_host=get("SUBMISSION_HOST", get("HOST", "127.0.0.1")),
        submission_tls_cert=Path(cert).resolve() if cert else None,
        submission_tls_key=Path(key).resolve() if key else None,
        outbound_allow_private=_bool(
            get("OUTBOUND_ALLOW_PRIVATE", "false"), "OUTBOUND_ALLOW_PRIVATE"
        ),
        outbound_ca_bundle=Path(get("OUTBOUND_CA_BUNDLE")).resolve()
        if get("OUTBOUND_CA_BUNDLE") else None,
        max_message_bytes=_int(get("SUBMISSION_MAX_BYTES", str(25 * 1024 * 1024)),
                               "SUBMISSION_MAX_BYTES"),
        max_recipients=_int(get("SUBMISSION_MAX_RECIPIENTS", "100"),
                            "SUBMISSION_MAX_RECIPIENTS"),
        sends_per_hour=_int(get("SENDS_PER_HOUR", "500"), "SENDS_PER_HOUR"),
        delivery_worker=_bool(get("DELIVERY_WORKER", "true"), "DELIVERY_WORKER"),
        delivery_timeout_seconds=_float(get("DELIVERY_TIMEOUT", "60"), "DELIVERY_TIMEOUT"),
        delivery_retry_seconds=tuple(
            _float(item, "DELIVERY_RETRY")
            for item in _csv(get("DELIVERY_RETRY", "30,60,300,900,1800,3600,7200,14400,"
                                                    "28800,43200"))
        ),
        helo_name=get("HELO_NAME", "sendtrail.localhost"),
    )


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _networks(value: str, name: str) -> tuple[str, ...]:
    """Addresses or CIDRs, checked now: a typo must stop the start, not fail each request."""
    items = _csv(value)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise InvalidInput(
                f"{PREFIX}{name}: {item!r} is not an IP address or network (e.g. 10.0.0.5, "
                "10.0.0.0/8 or ::1); list proxies by address, not by name"
            ) from None
    return items


def _origins(value: str, name: str) -> tuple[str, ...]:
    """Browser origins, ``scheme://host[:port]`` each; anything else would never match."""
    items = tuple(item.rstrip("/") for item in _csv(value))
    for item in items:
        try:
            parts = urlsplit(item)
            parts.port  # noqa: B018 - raises for a port that is not a number
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
            raise InvalidInput(
                f"{PREFIX}{name}: {item!r} is not an origin; write scheme, host and port "
                "only, e.g. http://localhost:5173"
            )
    return items


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{PREFIX}{name} must be a whole number, not {value!r}") from None


def _positive(number: int, name: str) -> int:
    if number < 1:
        raise InvalidInput(f"{PREFIX}{name} must be at least 1, not {number}")
    return number


def workers_count(value: str, name: str) -> int:
    """A number of server processes, 1 or more (``name`` says where it was given)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise InvalidInput(f"{name} must be a whole number of processes, 1 or more, "
                           f"not {value!r}")
    return number


def _float(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(f"{PREFIX}{name} must be a number of seconds, not {value!r}") from None
    if not number > 0:
        raise InvalidInput(f"{PREFIX}{name} must be more than 0 seconds, not {value!r}")
    return number


def _share(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(f"{PREFIX}{name} must be a fraction such as 0.1, "
                           f"not {value!r}") from None
    if not 0 < number <= 1:
        raise InvalidInput(f"{PREFIX}{name} must be more than 0 and at most 1, not {value!r}")
    return number


def _bool(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise InvalidInput(f"{PREFIX}{name} must be true or false, not {value!r}")


def _metrics_token(value: str) -> str | None:
    if value and len(value) < 16:
        raise InvalidInput(f"{PREFIX}METRICS_TOKEN must be at least 16 characters long")
    return value or None


def _secret_keys(value: str, data_dir: Path) -> tuple[str, ...]:
    """Configured keys, or one generated once into the data dir (kept private to the owner)."""
    if value:
        keys = _csv(value)
        if any(len(key) < 32 for key in keys):
            raise InvalidInput(f"{PREFIX}SECRET_KEYS: every key must be at least 32 characters")
        return keys
    key_file = data_dir / "secret_keys"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process generated it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
    return _csv(key_file.read_text().replace("\n", ","))
