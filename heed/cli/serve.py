"""``heed serve``: the rightsholders' portal over the audit database, on uvicorn.

The database is opened, and the provider's statements found, before the port is bound, so that
a wrong ``--db`` or ``--config`` is one line and exit status 1, not a server that answers 500.
The socket is bound here (port 0 picks a free one, and the line printed names it), then handed
to uvicorn, which logs every request (its access log), stops gracefully on SIGTERM or Ctrl-C
(open requests finish, for up to :data:`GRACE` seconds), and believes ``X-Forwarded-For`` and
``X-Forwarded-Proto`` only from the ``--trusted-proxy`` addresses: by default from nobody.
With ``--workers N`` the checks are made here all the same, then uvicorn's supervisor starts N
processes on the bound socket, each building its application from what was checked
(:class:`heed.serve.app.WorkerApp`).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from collections.abc import Mapping

import click

from crawler.config import heed_version
from heed.cli.db import audit_errors, db_option
from heed.cli.mail import mail_options, mail_settings
from policy.provider import ProviderConfigError
from policy.publish.inputs import SETTING_NAMES
from policy.statements import find_statements

#: Seconds open requests get to finish after a shutdown signal.
GRACE = 10


def _public_url(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise click.BadParameter("give an absolute http(s) URL, such as https://bot.example.ai")
    return value


def _proxies(_: click.Context, __: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise click.BadParameter(f"{item!r} is not an IP address or network") from None
    return value


def _connect_to(
    _: click.Context, __: click.Parameter, value: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in value:
        parts = item.rsplit(":", 3) if not item.endswith("]") else []
        if len(parts) != 4 or not (parts[1].isdigit() and parts[3].isdigit()):
            raise click.BadParameter(f"{item!r} is not HOST:PORT:ADDR:PORT")
        pairs.append((f"{parts[0].lower()}:{parts[1]}", f"{parts[2]}:{parts[3]}"))
    return tuple(pairs)


@click.command("serve")
@db_option
@click.option(
    "--config",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="heed.toml with the provider's statements (the start page's provider, purpose and "
    "contact). Default: ./heed.toml if it exists, else those recorded with the last publication.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on (0: any free port, printed).",
)
@click.option(
    "--public-url",
    metavar="URL",
    callback=_public_url,
    help="The URL the portal is reached at (https://bot.example.ai), for absolute links. "
    "Default: each request's own.",
)
@click.option(
    "--trusted-proxy",
    "trusted",
    metavar="ADDR",
    multiple=True,
    callback=_proxies,
    help="A reverse proxy (address or network) whose X-Forwarded-For/-Proto headers are "
    "believed; repeat for more. Default: none.",
)
@click.option(
    "--lookups-per-minute",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Look-ups (domains and documents) per client and minute.",
)
@click.option(
    "--lookup-burst",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Look-ups a client may make at once before the rate applies.",
)
@click.option(
    "--posts-per-minute",
    type=click.FloatRange(min=0.1),
    default=6.0,
    show_default=True,
    help="Verification requests and checks (POSTs) per client and minute.",
)
@click.option(
    "--post-burst",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="POSTs a client may make at once before the rate applies.",
)
@click.option(
    "--verify-allow-private",
    "allow_private",
    metavar="NET",
    multiple=True,
    callback=_proxies,
    help="A private or loopback network verification fetches may reach (repeat for more). "
    "Default: none; only public addresses are fetched.",
)
@click.option(
    "--verify-connect-to",
    "connect_to",
    metavar="HOST:PORT:ADDR:PORT",
    multiple=True,
    callback=_connect_to,
    help="Connect verification fetches of HOST:PORT to ADDR:PORT instead, like curl's "
    "--connect-to (the address is still checked); repeat for more.",
)
@click.option(
    "--dns-resolver",
    metavar="ADDR[:PORT]",
    help="The DNS resolver verification TXT look-ups ask. Default: the system's.",
)
@click.option(
    "--challenge-hours",
    type=click.FloatRange(min=0.1),
    default=48.0,
    show_default=True,
    help="Hours a verification token can be checked.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes answering on the port (for throughput: the number of cores). Each "
    "gets 1/N of the rate limits, so each burst must be at least N.",
)
@click.option(
    "--credential-days",
    type=click.FloatRange(min=0.01),
    default=30.0,
    show_default=True,
    help="Days a verified owner's credential lasts.",
)
@mail_options
def serve(
    db: str | None,
    config: str | None,
    host: str,
    port: int,
    public_url: str | None,
    trusted: tuple[str, ...],
    lookups_per_minute: float,
    lookup_burst: int,
    posts_per_minute: float,
    post_burst: int,
    allow_private: tuple[str, ...],
    connect_to: tuple[tuple[str, str], ...],
    dns_resolver: str | None,
    challenge_hours: float,
    credential_days: float,
    workers: int,
    smtp_url: str | None,
    mail_from: str | None,
) -> None:
    """Serve the rightsholders' portal: published documents, domain look-up and verification.

    Pages and a JSON API (OpenAPI at /api/v1/openapi.json) over the audit database: the
    crawler information page with its JSON and Atom feed, the public copyright policy and the
    training-content summary, each in its latest published version with every earlier one;
    and, for any domain, the signal documents the crawler fetched, what they meant, what it
    requested and kept, and whether anything was kept after a reservation was first seen.
    A rightsholder who proves control of a domain (an HTTP file or a DNS TXT record) gets a
    credential for that domain's decisions URL by URL, with their evidence, as a page, JSON or
    CSV. Serving never publishes; it writes only verifications and credentials. Stop it with
    Ctrl-C or SIGTERM. The CSRF secret of the forms comes from $HEED_SERVE_SECRET. With a mail
    server ($HEED_SMTP_URL, $HEED_MAIL_FROM) claimants get their complaint's receipt and steps
    by e-mail, sent in the background with retries.
    """
    secret = serve_secret(os.environ)  # before anything is opened: a bad one stops here
    mail = mail_settings(smtp_url, mail_from)
    for name, burst in (("--lookup-burst", lookup_burst), ("--post-burst", post_burst)):
        if burst < workers:
            raise click.UsageError(
                f"{name} {burst} is less than --workers {workers}: each worker gets 1/{workers} "
                f"of the limits, and must let a client through at least once"
            )
    if workers > 1 and secret is None:
        secret = secrets.token_bytes(32)  # one for all workers: a form may post to any of them
    import uvicorn

    from audit import open_publisher, open_reader
    from heed.serve.app import WorkerApp, create_app
    from heed.serve.settings import ServeSettings

    with audit_errors(db):
        engine = open_reader(db)
        writer = open_publisher(db)
        try:
            found = find_statements(engine, config, described=SETTING_NAMES)
            statements = found.config()
        except ProviderConfigError as exc:
            engine.dispose()
            writer.dispose()
            raise click.ClickException(str(exc)) from None
    settings = ServeSettings(
        public_url=public_url,
        trusted_proxies=trusted,
        lookups_per_minute=lookups_per_minute,
        lookup_burst=lookup_burst,
        posts_per_minute=posts_per_minute,
        post_burst=post_burst,
        allow_private=allow_private,
        connect_to=connect_to,
        dns_resolver=dns_resolver,
        challenge_hours=challenge_hours,
        credential_days=credential_days,
        secret=secret,
        heed_version=heed_version(),
        workers=workers,
        mail=mail,
    )
    sock = _bind(host, port)
    where = f"[{host}]" if ":" in host else host
    actual = sock.getsockname()[1]
    click.echo(f"Serving on http://{where}:{actual}/ (statements: {found.origin})", err=False)
    if workers > 1:
        # Each worker opens its own connections (heed.serve.app.WorkerApp); these were for
        # the checks above.
        url = engine.url
        engine.dispose()
        writer.dispose()
        app: object = WorkerApp(url, statements, settings, os.getpid())
    else:
        app = create_app(engine, statements, settings, writer)[1]
    config_ = uvicorn.Config(
        app,  # type: ignore[arg-type]
        factory=workers > 1,
        workers=workers,
        host=host,
        port=actual,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=list(trusted) if trusted else None,
        server_header=False,
        access_log=True,
        timeout_graceful_shutdown=GRACE,
        lifespan="on",
    )
    try:
        if workers > 1:
            _workers_supervisor()(config_, sockets=[sock]).run()
        else:
            uvicorn.Server(config_).run(sockets=[sock])
    finally:
        sock.close()
        engine.dispose()
        writer.dispose()


def _workers_supervisor() -> type:
    """Return uvicorn's supervisor of worker processes, with the number of workers fixed."""
    from uvicorn.supervisors.multiprocess import Multiprocess, logger

    class Workers(Multiprocess):
        """Starts, watches and restarts the workers, and stops them gracefully on SIGTERM or
        SIGINT. SIGTTIN and SIGTTOU, which would add or remove one, are ignored: the rate
        limits were shared out among the workers at start."""

        def handle_ttin(self) -> None:
            logger.warning("SIGTTIN ignored: restart heed serve with another --workers")

        def handle_ttou(self) -> None:
            logger.warning("SIGTTOU ignored: restart heed serve with another --workers")

    return Workers


#: Environment variable of the CSRF secret (an environment variable, not an option: a command
#: line is visible to every user of the machine).
SECRET_ENV = "HEED_SERVE_SECRET"
#: Shortest secret accepted: 32 characters (e.g. ``openssl rand -hex 16`` or longer).
MIN_SECRET = 32


def serve_secret(environ: Mapping[str, str]) -> bytes | None:
    """Return the CSRF secret from *environ* (None: a random one per process, so that forms
    opened before a restart stop working); a short secret is refused in one line."""
    value = environ.get(SECRET_ENV)
    if value is None or value == "":
        return None
    if len(value) < MIN_SECRET:
        raise click.ClickException(
            f"{SECRET_ENV} is {len(value)} characters: give at least {MIN_SECRET}"
        )
    return value.encode()


def _bind(host: str, port: int) -> socket.socket:
    """Return a listening socket on *host*:*port*; a one-line error when it cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
