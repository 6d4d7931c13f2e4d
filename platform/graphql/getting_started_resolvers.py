"""``gettingStarted``: the first run's checklist and the relay's login (issue 15, item 8)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from sendtrail.graphql.context import ctx
from sendtrail.sending import getting_started as checklist

__all__ = ["GettingStartedQuery"]

GettingStartedStepId = strawberry.enum(
    checklist.Step, name="GettingStartedStepId",
    description="A step of the first run: OUTBOUND_MAIL (connect the account's mail "
    "server), MAIL_CLIENT (send through the relay from a mail client), FIRST_EMAIL (send a "
    "tracked email from Sendtrail), INVITE_COLLEAGUE, TRACKING_DOMAIN.",
)


@strawberry.type(description="One step of the checklist; done when what it asks for exists.")
class GettingStartedStep:
    id: GettingStartedStepId  # type: ignore[valid-type]
    done: bool
    admin_only: bool = strawberry.field(description="Only an admin can take this step.")


@strawberry.type(description="How a mail client signs in to the SMTP submission relay (R26).")
class RelayLogin:
    host: str
    port: int
    starttls: bool = strawberry.field(
        description="STARTTLS is offered (else only a loopback client may sign in).")
    username: str = strawberry.field(
        description="Your email address; the password is an API token with the SEND scope.")


@strawberry.type(description="What a new account still has to do, each step ticking itself.")
class GettingStarted:
    steps: list[GettingStartedStep]
    relay: RelayLogin | None = strawberry.field(description="null: the relay is off.")

    @strawberry.field(description="Every step is done.")
    def complete(self) -> bool:
        return all(step.done for step in self.steps)


@strawberry.type
class GettingStartedQuery:
    @strawberry.field(description="The first run's checklist for you in your account.")
    async def getting_started(self, info: Info) -> GettingStarted:
        context = ctx(info)
        principal = await context.actor(info)
        account_id = await context.account_id(info)
        async with context.db() as session:
            states = await checklist.getting_started(session, principal, account_id)
        relay = checklist.relay_login(context.settings.sending,
                                      context.settings.http.public_url, principal.email)
        return GettingStarted(
            steps=[GettingStartedStep(id=state.step, done=state.done,
                                      admin_only=state.admin_only) for state in states],
            relay=RelayLogin(host=relay.host, port=relay.port, starttls=relay.starttls,
                             username=relay.username) if relay else None,
        )
