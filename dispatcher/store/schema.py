"""Tables. Alembic migrations in `migrations/versions` create them; this module is their
typed description for queries. Times are stored as UTC and always come back timezone-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite keeps no time zone; store naive UTC, hand back aware UTC on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}  # noqa: RUF012


class Incident(Base):
    """The incident record (README, "Incident records: the coordinator's side"). Opened automatically for every alarm;
    most fields are completed later by the coordinator."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_uid: Mapped[str | None] = mapped_column(String(40), unique=True)
    opened_at: Mapped[datetime]
    occurred_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")
    site_id: Mapped[str | None] = mapped_column(String(64))
    site_name: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(300))
    position: Mapped[dict[str, Any] | None]
    person_affected: Mapped[str | None] = mapped_column(String(200))
    reporter: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(32))
    abcd_class: Mapped[str | None] = mapped_column(String(1))
    aggression_forms: Mapped[list[str] | None]
    description: Mapped[str | None] = mapped_column(Text)
    offenders: Mapped[str | None] = mapped_column(Text)
    injury: Mapped[str | None] = mapped_column(Text)
    hospital_admission: Mapped[bool | None] = mapped_column(Boolean)
    death: Mapped[bool | None] = mapped_column(Boolean)
    damage_personal_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    damage_personal_recovered: Mapped[bool | None] = mapped_column(Boolean)
    damage_employer_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    damage_employer_recovered: Mapped[bool | None] = mapped_column(Boolean)
    damage_description: Mapped[str | None] = mapped_column(Text)  # what was damaged (the form's 'waaraan')
    police_report: Mapped[bool | None] = mapped_column(Boolean)
    police_report_date: Mapped[date | None] = mapped_column(Date)
    repeat_offender: Mapped[bool | None] = mapped_column(Boolean)
    sanction: Mapped[str | None] = mapped_column(String(32))
    aftercare: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default="alarm")  # alarm | report
    near_miss: Mapped[bool] = mapped_column(Boolean, default=False)
    affected_person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    reported_by_user: Mapped[str | None] = mapped_column(String(64))
    contact_kind: Mapped[str | None] = mapped_column(String(16))  # counter | phone | home_visit | street | online
    police_report_reference: Mapped[str | None] = mapped_column(String(100))
    employer_address_used: Mapped[bool | None] = mapped_column(Boolean)
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]
    # Since 0009: the rest of the registration form (Bijlage 10), aftercare from the alarm, the debrief.
    lasting_harm: Mapped[bool | None] = mapped_column(Boolean)
    injured: Mapped[bool | None] = mapped_column(Boolean)
    offender_relation: Mapped[str | None] = mapped_column(String(16))
    damage_personal: Mapped[bool | None] = mapped_column(Boolean)
    damage_employer: Mapped[bool | None] = mapped_column(Boolean)
    damage_personal_description: Mapped[str | None] = mapped_column(Text)  # 'waaraan', personal property
    sanction_other: Mapped[str | None] = mapped_column(String(300))  # "anders, namelijk"
    employee_signed_name: Mapped[str | None] = mapped_column(String(200))
    employee_signed_on: Mapped[date | None] = mapped_column(Date)
    lead_signed_name: Mapped[str | None] = mapped_column(String(200))
    lead_signed_on: Mapped[date | None] = mapped_column(Date)
    colleagues_involved: Mapped[list[str] | None]  # person ids of colleagues and witnesses
    aftercare_planned_at: Mapped[datetime | None]
    debrief_what: Mapped[str | None] = mapped_column(Text)
    debrief_went_well: Mapped[str | None] = mapped_column(Text)
    debrief_change: Mapped[str | None] = mapped_column(Text)
    debrief_actions: Mapped[str | None] = mapped_column(Text)  # who does what by when
    team_meeting_on: Mapped[date | None] = mapped_column(Date)


class Alarm(Base):
    """One alarm and its whole core state (JSON). The columns beside it are what queries need:
    which alarms are open, which deadline is due."""

    __tablename__ = "alarms"

    uid: Mapped[str] = mapped_column(String(40), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    device_alarm_id: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    status: Mapped[str] = mapped_column(String(16))
    is_open: Mapped[bool] = mapped_column(Boolean)
    raised_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]
    state: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # One open alarm per (device, alarm id): the database backs up the de-duplication.
        Index("uq_alarms_open_key", "device_id", "device_alarm_id", unique=True,
              sqlite_where=text("is_open"), postgresql_where=text("is_open")),
        Index("ix_alarms_key", "device_id", "device_alarm_id"),
        Index("ix_alarms_open_deadline", "is_open", "deadline_at"),
    )


class TimelineEntry(Base):
    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    alarm_uid: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(16))
    notice: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]]


class OutboxItem(Base):
    """A message decided but maybe not yet sent. Written in the decision's transaction, so a
    crash between deciding and sending loses nothing; sent rows keep the delivery record."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_uid: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # notify | feedback
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(64))  # Twilio's id of the message or call

    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "failed_at"),)


class DispatcherLease(Base):
    """Who dispatches (PostgreSQL, several instances): dispatcher/store/lease.py."""

    __tablename__ = "dispatcher_lease"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    epoch: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RelayedCommand(Base):
    """An action taken on a standby, for the dispatching instance to carry out (its outcome
    is written back for the standby to answer with)."""

    __tablename__ = "relayed_commands"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_uid: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # "event" or "undeliverable"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    strict: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class WebhookReceipt(Base):
    """A Twilio request that changed something, by its message or call id: a replay is refused."""

    __tablename__ = "webhook_receipts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]


class DeviceStatus(Base):
    """What the devices last said about themselves, and what supervision concluded."""

    __tablename__ = "device_status"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    online: Mapped[bool | None] = mapped_column(Boolean)
    status_at: Mapped[datetime | None]
    last_heartbeat_at: Mapped[datetime | None]
    battery: Mapped[float | None]
    rssi: Mapped[int | None] = mapped_column(Integer)
    firmware: Mapped[str | None] = mapped_column(String(64))
    last_alarm_at: Mapped[datetime | None]
    registered_at: Mapped[datetime | None]  # when code4 first supervised it: silence counts from here
    last_seen_at: Mapped[datetime | None]  # any message at all
    last_test_at: Mapped[datetime | None]  # the last press (a drill press is a test press)
    faults: Mapped[list[str] | None]
    position: Mapped[dict[str, Any] | None]
    position_at: Mapped[datetime | None]


class DeviceEvent(Base):
    """The timeline of a device: faults raised and cleared, online and offline, visits."""

    __tablename__ = "device_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]


class Visit(Base):
    """A lone worker's timed visit: check in before `deadline_at`, or an alarm follows."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # open | pre_alerted | ended | missed
    interval_s: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    pre_alerted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    alarm_uid: Mapped[str | None] = mapped_column(String(40))


class User(Base):
    """Someone who signs in: operators, coordinators, admins, responders."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]]
    person_id: Mapped[str | None] = mapped_column(String(64))  # the person in the agreement file
    language: Mapped[str] = mapped_column(String(2), default="nl")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class SessionRecord(Base):
    """A signed-in browser. Only a hash of the cookie value is stored."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiToken(Base):
    """A token for automation, sent as `Authorization: Bearer …`. Only its hash is stored. It
    ends when revoked (by hand, or by a new password or a disabled account) or when it expires."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # none: until revoked


class Offender(Base):
    """Someone who behaved aggressively, recorded once and linked to every incident they were in.
    Kept to what a sanction letter needs; anonymised with the records."""

    __tablename__ = "offenders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))  # for the letter
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    anonymised_at: Mapped[datetime | None]


class IncidentOffender(Base):
    __tablename__ = "incident_offenders"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    offender_id: Mapped[int] = mapped_column(ForeignKey("offenders.id"), primary_key=True, index=True)


class Sanction(Base):
    __tablename__ = "sanctions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    offender_id: Mapped[int] = mapped_column(ForeignKey("offenders.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # rules.py SANCTIONS
    suggested: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime]
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    letter: Mapped[str] = mapped_column(Text)


class AftercareTask(Base):
    __tablename__ = "aftercare_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # dispatcher/incidents/rules.py TASK_KINDS
    title: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(String(200))  # whom the talk is with; none: the person affected
    declined: Mapped[bool] = mapped_column(Boolean, default=False)  # aftercare offered and declined
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Every read and change of an incident record: who, what, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    user: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any]]


class ApproachAgreement(Base):
    """An agreed approach for a known visitor of a room (or zone) in a time window
    (dispatcher/approaches.py). The visitor reference and the note are erased a week after
    the window ends."""

    __tablename__ = "approach_agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[str | None] = mapped_column(String(64))
    zone_id: Mapped[str | None] = mapped_column(String(64))
    place_name: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    visitor: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(String(300))
    made_by: Mapped[str] = mapped_column(String(200))
    made_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(200))
    erased_at: Mapped[datetime | None]


class PresenceRecord(Base):
    """Who signed in as present at a site, and until when (dispatcher/presence.py). One row per
    person and site; signing out deletes it, and expired rows are deleted by housekeeping."""

    __tablename__ = "presence"

    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    via: Mapped[str] = mapped_column(String(16))  # app, api or kiosk


class DeviceSession(Base):
    """A responder's phone signed in to the app (/app) once, for as long as it is not revoked
    (by its user or an admin). Only a hash of the cookie value is stored."""

    __tablename__ = "device_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))  # what the user sees in their list: the browser
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class PushSubscription(Base):
    """Where a push service takes pushes for one person's device (escalation/push). A subscription
    the push service said is gone (404/410) stays, marked, until the person is told in the app."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    device_session_id: Mapped[int | None] = mapped_column(ForeignKey("device_sessions.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    gone_at: Mapped[datetime | None]
