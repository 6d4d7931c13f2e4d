"""The engagement report (the web admin's Overview): types and a thin resolver."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import strawberry
from strawberry.types import Info

from sendtrail.errors import InvalidInput
from sendtrail.graphql.context import ctx
from sendtrail.graphql.tracking_inputs import aware
from sendtrail.graphql.tracking_types import Email
from sendtrail.i18n import _
from sendtrail.tracking import reports
from sendtrail.tracking.core.series import Counts, Interval

__all__ = ["ReportQuery"]

ReportScopeEnum = strawberry.enum(reports.ReportScope, name="ReportScope")
ReportIntervalEnum = strawberry.enum(Interval, name="ReportInterval")


@strawberry.input
class EngagementReportInput:
    scope: ReportScopeEnum = strawberry.field(  # type: ignore[valid-type]
        default=reports.ReportScope.MINE,
        description="MINE: emails you sent. ACCOUNT: every email of the account (admins).",
    )
    interval: ReportIntervalEnum = Interval.DAY  # type: ignore[valid-type]
    since: datetime | None = strawberry.field(
        default=None, description="Default: 24 hours, 30 days or 12 weeks before `until`."
    )
    until: datetime | None = strawberry.field(default=None, description="Default: now.")
    time_zone: str = strawberry.field(
        default="UTC", description="IANA time zone the days and weeks follow, e.g. Europe/Paris."
    )
    top: int = strawberry.field(default=5, description="How many top emails and links (1-20).")


@strawberry.type(description="Opens and clicks, human (as reports count them) and machine.")
class EngagementCounts:
    human_opens: int = strawberry.field(
        description="Opens by people, attributed to a recipient (R17: not 'Someone').")
    human_clicks: int
    machine_opens: int = strawberry.field(
        description="Opens by scanners, gateways, proxies and crawlers (R10).")
    machine_clicks: int

    @classmethod
    def of(cls, counts: Counts) -> EngagementCounts:
        return cls(human_opens=counts.human_opens, human_clicks=counts.human_clicks,
                   machine_opens=counts.machine_opens, machine_clicks=counts.machine_clicks)


@strawberry.type
class EngagementBucket:
    start: datetime
    end: datetime
    counts: EngagementCounts


@strawberry.type
class TopEmail:
    email: Email
    opens: int = strawberry.field(description="Human opens in the range.")
    clicks: int = strawberry.field(description="Human clicks in the range.")
    recipients_opened: int = strawberry.field(description="Recipients with at least one open.")


@strawberry.type
class TopLink:
    url: str = strawberry.field(description="The destination, as written in the emails.")
    clicks: int = strawberry.field(description="Human clicks in the range.")
    emails: int = strawberry.field(description="Emails whose link was clicked.")


@strawberry.type
class EngagementReport:
    scope: ReportScopeEnum  # type: ignore[valid-type]
    interval: ReportIntervalEnum  # type: ignore[valid-type]
    time_zone: str
    since: datetime = strawberry.field(description="Start of the first bucket.")
    until: datetime
    totals: EngagementCounts
    buckets: list[EngagementBucket]
    top_emails: list[TopEmail]
    top_links: list[TopLink]


def _zone(name: str) -> ZoneInfo:
    try:
        # OSError: a name longer than the file system allows (issue 12, defect 8).
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise InvalidInput(_(
            "{name!r} is not a time zone; use an IANA name such as Europe/Paris or UTC."
        ).format(name=name[:60])) from error


@strawberry.type
class ReportQuery:
    @strawberry.field(description="Opens and clicks over time, human versus machine, and the "
                      "emails and links with the most human activity.")
    async def engagement_report(
        self, info: Info, input: EngagementReportInput | None = None
    ) -> EngagementReport:
        context = ctx(info)
        principal = await context.actor(info)
        given = input or EngagementReportInput()
        request = reports.ReportRequest(
            scope=given.scope, interval=given.interval, zone=_zone(given.time_zone),
            since=aware(given.since, "since"), until=aware(given.until, "until") or context.now(),
            top=given.top,
        )
        async with context.db() as session:
            report = await reports.engagement_report(
                session, principal, await context.account_id(info), request,
                side_sessions=context.side_session,
            )
        return EngagementReport(
            scope=given.scope, interval=given.interval, time_zone=given.time_zone,
            since=report.since, until=report.until, totals=EngagementCounts.of(report.totals),
            buckets=[EngagementBucket(start=bucket.start, end=bucket.end,
                                      counts=EngagementCounts.of(bucket.counts))
                     for bucket in report.buckets],
            top_emails=[TopEmail(email=Email.from_row(top.email), opens=top.opens,
                                 clicks=top.clicks, recipients_opened=top.recipients_opened)
                        for top in report.top_emails],
            top_links=[TopLink(url=link.url, clicks=link.clicks, emails=link.emails)
                       for link in report.top_links],
        )
