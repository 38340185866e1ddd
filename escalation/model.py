"""The assistance agreement file as a typed model (README, "The agreement file").

Only shape and single-field rules live here; references between sections are checked
in `escalation.references` so that every error can point at a line of the file.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    field_validator,
    model_validator,
)

from devices.kinds import AlarmKind
from escalation.floorplans import PlanFile, Point
from escalation.plan import ChannelKind
from escalation.targets import DEFAULT_TARGETS, ResponseTarget, checked_targets
from escalation.weekly import WeeklySchedule, parse_duration_seconds

DeviceType = Literal["fixed_button", "mobile_alarm", "responder_pager"]
Language = Literal["nl", "en"]

ALARM_DEVICE_TYPES: tuple[DeviceType, ...] = ("fixed_button", "mobile_alarm")
_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")


def _duration(value: object) -> int:
    return parse_duration_seconds(value)


def _schedule(value: object) -> WeeklySchedule:
    if isinstance(value, WeeklySchedule):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = "; ".join(value)
    if not isinstance(value, str):
        raise ValueError("`when` is text like 'mon-fri 08:00-17:30' or a list of such parts")
    return WeeklySchedule.parse(value)


Seconds = Annotated[int, PlainValidator(_duration)]
Schedule = Annotated[WeeklySchedule, PlainValidator(_schedule)]
Id = Annotated[str, Field(pattern=_ID)]


class _Strict(BaseModel):
    # A misspelt key (`ack_timout`) must be an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(_Strict):
    id: Id
    name: str
    gathering_point: str | None = None
    at: Point | None = None  # on the plan of its zone (else its site): escalation/floorplans.py
    gathering_at: Point | None = None


class Zone(_Strict):
    id: Id
    name: str
    gathering_point: str | None = None
    locations: list[Location] = Field(default_factory=list)
    plan: PlanFile | None = None  # this zone's floor plan; without it, the site's
    gathering_at: Point | None = None


class SitePresence(_Strict):
    """How people count as present at a site (README, "Presence"): signed in by the app, the API or
    the kiosk always; with `pagers_count` also anyone whose responder pager is online and who
    works in one of the site's zones."""

    pagers_count: bool = False


class Site(_Strict):
    id: Id
    name: str
    address: str = ""
    technical_contact: str | None = None  # a person or contact who hears about device faults
    drill: bool = False  # every alarm here runs as a drill
    zones: list[Zone] = Field(min_length=1)
    plan: PlanFile | None = None  # the floor plan of zones that have none of their own
    presence: SitePresence = Field(default_factory=SitePresence)


def _phone(value: str) -> str:
    compact = re.sub(r"[\s().-]", "", value)
    if not _PHONE.match(compact):
        raise ValueError("phone numbers are written in international form, e.g. +31612345678")
    return compact


Phone = Annotated[str, AfterValidator(_phone)]


class Person(_Strict):
    id: Id
    name: str
    phone: Phone | None = None
    language: Language = "nl"
    roles: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    leads: list[str] = Field(default_factory=list)  # teams this person leads: they see its incidents
    zones: list[str] = Field(default_factory=list)
    devices: list[str] = Field(default_factory=list)
    # How this person hears, as afdelingshoofd, of an alarm in a team they lead: the first that
    # reaches them, the next when it fails.
    informed_by: list[ChannelKind] = Field(default_factory=lambda: [ChannelKind.APP, ChannelKind.SMS], min_length=1)

    @field_validator("informed_by")
    @classmethod
    def _reaches_a_person(cls, value: list[ChannelKind]) -> list[ChannelKind]:
        if ChannelKind.ALARM_CENTRE in value:
            raise ValueError("alarm_centre reaches an alarm centre, not a person")
        return value


_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):(?P<port>\d{1,5})$")


def _receiver(value: object) -> str:
    if not isinstance(value, str) or not (match := _HOST_PORT.match(value.strip())):
        raise ValueError("a receiver is written host:port, e.g. 'ontvanger.pac.nl:12000'")
    if not 1 <= int(match.group("port")) <= 65535:
        raise ValueError("a port is 1-65535")
    return value.strip()


ReceiverAddress = Annotated[str, PlainValidator(_receiver)]


class AlarmCentre(_Strict):
    """How code4 reaches a certified alarm centre over SIA DC-09: what its contract says
    (README, "Connecting an alarm centre"). The AES key is never in this file: `key_env` names
    the environment variable that holds it, in hex."""

    receivers: list[ReceiverAddress] = Field(min_length=1, max_length=2)  # primary, then backup
    transport: Literal["tcp", "udp"] = "tcp"
    account: str = Field(pattern=r"^[0-9A-Fa-f]{3,16}$")
    receiver: int | None = Field(default=None, ge=0, le=0xFFFFFF)  # the R number the centre gave
    line: int = Field(default=0, ge=0, le=0xFFFFFF)  # the L number
    key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")
    format: Literal["sia-dcs", "adm-cid"] = "sia-dcs"
    supervision: Seconds = 180  # a dead path is on the device board within this long
    timeout: Seconds = 5  # to wait for the receiver's answer to one message
    attempts: int = Field(default=2, ge=1, le=5)  # per receiver, before the next one is tried
    # Zone numbers agreed with the centre: by device id or place (site, site/zone, site/location).
    zones: dict[str, Annotated[int, Field(ge=0, le=999)]] = Field(default_factory=dict)
    default_zone: int = Field(default=0, ge=0, le=999)
    fallback: str | None = None  # the phone contact to call (the police) when the centre cannot be reached

    @model_validator(mode="after")
    def _timing(self) -> AlarmCentre:
        if self.timeout * 2 > self.supervision:
            raise ValueError("the answer timeout must be at most half the supervision interval: a link "
                             "test runs every half interval and must be over before the next")
        return self


class Contact(_Strict):
    """Someone outside the organisation: reached by phone (`kind: phone`, the default), or a
    certified alarm centre reached over SIA DC-09 (`kind: alarm_centre` with its `alarm_centre:`)."""

    id: Id
    name: str
    kind: Literal["phone", "alarm_centre"] = "phone"
    phone: Phone | None = None
    language: Language = "nl"
    alarm_centre: AlarmCentre | None = None

    @model_validator(mode="after")
    def _kind(self) -> Contact:
        if self.kind == "alarm_centre" and self.alarm_centre is None:
            raise ValueError("a contact of kind alarm_centre needs its `alarm_centre:` settings")
        if self.kind == "phone" and self.alarm_centre is not None:
            raise ValueError("`alarm_centre:` settings belong to a contact of kind alarm_centre")
        if self.kind == "alarm_centre" and self.phone:
            raise ValueError("an alarm centre is reached over DC-09; the phone line to call when it cannot be "
                             "reached is a contact of its own, named in `alarm_centre.fallback`")
        return self


class Device(_Strict):
    id: Id
    type: DeviceType
    location: str | None = None
    person: str | None = None
    cancel_pin: str | None = None
    duress_pin: str | None = None
    drill: bool = False
    supervision: Seconds | None = None  # overrides the device type's interval
    battery_low: float | None = Field(default=None, ge=0, le=1)
    at: Point | None = None  # a fixed device's place on its location's plan (default: the location's)

    @field_validator("cancel_pin", "duress_pin", mode="before")
    @classmethod
    def _pin_is_text(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML reads 0123 as a number (and drops the 0): make the author quote it.
            raise ValueError('write a PIN in quotes, e.g. "1234"')
        if isinstance(value, str) and not re.fullmatch(r"\d{4,8}", value):
            raise ValueError("a PIN is 4 to 8 digits")
        return value

    @model_validator(mode="after")
    def _placement(self) -> Device:
        if self.type == "fixed_button" and not self.location:
            raise ValueError("a fixed_button needs a `location` (site/location)")
        if self.type in ("mobile_alarm", "responder_pager") and not self.person:
            raise ValueError(f"a {self.type} needs a `person`")
        if self.cancel_pin and self.cancel_pin == self.duress_pin:
            raise ValueError("cancel_pin and duress_pin must differ")
        return self


class DeviceTypeSettings(_Strict):
    """Supervision per device type: how long a device may be silent, when its battery is low,
    how often it must be test-pressed. None switches a check off."""

    supervision: Seconds | None = None
    battery_low: float = Field(default=0.2, ge=0, le=1)
    test_every: Seconds | None = None


DEFAULT_DEVICE_TYPES: dict[str, DeviceTypeSettings] = {
    "fixed_button": DeviceTypeSettings(supervision=600, battery_low=0.2, test_every=30 * 86400),
    "mobile_alarm": DeviceTypeSettings(supervision=300, battery_low=0.25, test_every=30 * 86400),
    "responder_pager": DeviceTypeSettings(supervision=600, battery_low=0.2),
}

AdapterKind = Literal["zigbee2mqtt", "chirpstack", "thethingsstack"]
DEFAULT_ACTIONS: dict[str, dict[str, AlarmKind]] = {
    # Zigbee2MQTT SOS buttons say "emergency"; plain buttons single/double/hold.
    "zigbee2mqtt": {"emergency": AlarmKind.PANIC, "single": AlarmKind.PANIC, "double": AlarmKind.ASSIST,
                    "hold": AlarmKind.MAN_DOWN, "long": AlarmKind.MAN_DOWN},
    # Milesight WS101 and alike: {"press": "short" | "long" | "double"} in the decoded uplink.
    "chirpstack": {"short": AlarmKind.PANIC, "long": AlarmKind.MAN_DOWN, "double": AlarmKind.ASSIST},
    "thethingsstack": {"short": AlarmKind.PANIC, "long": AlarmKind.MAN_DOWN, "double": AlarmKind.ASSIST},
}


class Adapter(_Strict):
    """Hardware people already own, turned into protocol v1 events by configuration alone."""

    id: Id
    kind: AdapterKind
    base_topic: str = "zigbee2mqtt"  # Zigbee2MQTT
    application: str | None = None  # ChirpStack application id, or The Things Stack "app@tenant"
    actions: dict[str, AlarmKind] | None = None  # action or press value -> alarm kind
    press_field: str = "press"  # in a LoRaWAN uplink's decoded payload
    battery_field: str = "battery"
    battery_percent: bool = True  # battery reported as 0-100
    devices: dict[str, str] = Field(min_length=1)  # their id (friendly name, devEUI, device id) -> code4 device

    @model_validator(mode="after")
    def _application(self) -> Adapter:
        if self.kind in ("chirpstack", "thethingsstack") and not self.application:
            raise ValueError(f"a {self.kind} adapter names its `application`")
        return self

    @property
    def action_map(self) -> dict[str, AlarmKind]:
        return self.actions if self.actions is not None else DEFAULT_ACTIONS[self.kind]


def _offset(value: object) -> int:
    return 0 if value in (0, "0", "0s", "0d") else parse_duration_seconds(value)


def _period(value: object) -> int:
    """A retention period: '5y' (years of 365 days) or any duration ('400d')."""
    if isinstance(value, str) and (match := re.fullmatch(r"\s*(\d+)\s*y\s*", value)):
        return int(match.group(1)) * 365 * 86400
    return parse_duration_seconds(value)


class AftercareStep(_Strict):
    after: Annotated[int, PlainValidator(_offset)] = 0  # whole days after the incident (1d, 14d); 0: that day
    task: str


DEFAULT_AFTERCARE = [
    AftercareStep(after=0, task="Opvang: gesprek op de dag zelf"),
    AftercareStep(after=86400, task="Vervolggesprek de volgende dag (praktische zaken, werkhervatting)"),
    AftercareStep(after=5 * 86400, task="Contact in de eerste week: hoe gaat het nu?"),
    AftercareStep(after=14 * 86400, task="Vervolgcontact na 2 weken"),
    AftercareStep(after=28 * 86400, task="Vervolgcontact na 4 weken"),
    AftercareStep(after=42 * 86400, task="Afsluitend gesprek na 6 weken: verwerkt? verwijzen?"),
]


class Records(_Strict):
    """What happens with incident records: the aftercare schedule and how long details are kept."""

    aftercare: list[AftercareStep] = Field(default_factory=lambda: list(DEFAULT_AFTERCARE))
    # Then the record is anonymised; the statistics stay. Written like '5y' or '400d'.
    retention: Annotated[int, PlainValidator(_period)] = 5 * 365 * 86400
    employer_address: str | None = None  # for a police report, instead of the victim's home address


class Duty(_Strict):
    """A person holds a role (`role: bhv`), or works at a desk or room (`at: site/location`),
    at the times `when` gives (always without it). Whoever works at a fixed button's location
    is the person in danger when it is pressed: never paged for it, and their afdelingshoofd
    is informed."""

    person: str
    role: str | None = None
    at: str | None = None
    when: Schedule | None = None

    @model_validator(mode="after")
    def _role_or_place(self) -> Duty:
        if not self.role and not self.at:
            raise ValueError("a duty rule names a `role`, a place it works `at` (site/location), or both")
        return self

    def holds_at(self, minute: int) -> bool:
        """In force at this minute of the week (always without `when`)."""
        return self.when is None or self.when.contains_minute(minute)


class Target(_Strict):
    team: str | None = None
    role: str | None = None
    person: str | None = None
    contact: str | None = None
    on_duty: bool = False
    same_zone: bool = False
    # Only those signed in as present at the alarm's site now (or at `site`: a neighbouring
    # building's BHV); resolved when the alarm starts.
    present: bool = False
    site: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        chosen = [k for k in ("team", "role", "person", "contact") if getattr(self, k)]
        if len(chosen) != 1:
            raise ValueError("a target names exactly one of team, role, person or contact")
        if self.contact and self.present:
            raise ValueError("present applies to people, not to an outside contact")
        if self.site and not self.present:
            raise ValueError("site names where the target must be present: add present: true")
        if self.on_duty and not self.role:
            raise ValueError("on_duty applies to a role target")
        if self.contact and self.same_zone:
            raise ValueError("same_zone does not apply to an outside contact")
        return self

    def describe(self) -> str:
        return self._who() + (f" (present at {self.site or 'the site'})" if self.present else "")

    def _who(self) -> str:
        if self.team:
            return f"team {self.team}" + (" (same zone)" if self.same_zone else "")
        if self.role:
            extra = [w for w, on in (("on duty", self.on_duty), ("same zone", self.same_zone)) if on]
            return f"role {self.role}" + (f" ({', '.join(extra)})" if extra else "")
        if self.person:
            return f"person {self.person}"
        return f"contact {self.contact}"


class Step(_Strict):
    """Whom to ask, how, and how many of them must accept. `required` counts accepts from the
    people this step asks (two BHV accepts: the BHV-maatje). A step `alongside` starts together
    with the step before it and is not waited for: colleagues who come as well while the BHV
    is paged, never instead."""

    id: Id
    code: str | None = None
    targets: list[Target] = Field(min_length=1)
    channels: list[ChannelKind] = Field(min_length=1)
    ack_timeout: Seconds | None = None
    required: int = Field(default=1, ge=1)
    alongside: bool = False

    @model_validator(mode="after")
    def _alongside(self) -> Step:
        if self.alongside and {"ack_timeout", "required"} & self.model_fields_set:
            raise ValueError("a step alongside another is not waited for: it takes neither "
                             "ack_timeout nor required (the step it runs with has them)")
        return self

    @field_validator("channels")
    @classmethod
    def _no_repeats(cls, value: list[ChannelKind]) -> list[ChannelKind]:
        if len(set(value)) != len(value):
            raise ValueError("a channel is listed twice")
        return value


class Match(_Strict):
    sites: list[str] | None = None
    zones: list[str] | None = None
    locations: list[str] | None = None
    device_types: list[DeviceType] | None = None
    kinds: list[AlarmKind] | None = None
    when: Schedule | None = None


class Agreement(_Strict):
    id: Id
    match: Match = Field(default_factory=Match)
    steps: list[Step] = Field(min_length=1)
    on_severe: str | None = None
    repeat_every: Seconds = 60

    @model_validator(mode="after")
    def _steps(self) -> Agreement:
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError("two steps have the same id")
        if self.steps[0].alongside:
            raise ValueError(f"the first step {self.steps[0].id!r} has no step before it to run alongside")
        leads = [s for s in self.steps if not s.alongside]
        if self.on_severe is not None and self.on_severe not in [s.id for s in leads]:
            raise ValueError(f"on_severe names step {self.on_severe!r}, which is not one of "
                             f"{[s.id for s in leads]} (a step alongside another cannot start on its own)")
        for step in leads[:-1]:
            if step.ack_timeout is None:
                raise ValueError(
                    f"step {step.id!r} needs an ack_timeout: without it the next step would never start"
                )
        return self


class Organisation(_Strict):
    organisation: str
    timezone: str = "Europe/Amsterdam"
    language: Language = "nl"
    fallback: str
    sites: list[Site] = Field(min_length=1)
    people: list[Person] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    duty: list[Duty] = Field(default_factory=list)
    agreements: list[Agreement] = Field(min_length=1)
    device_types: dict[DeviceType, DeviceTypeSettings] = Field(default_factory=dict)
    adapters: list[Adapter] = Field(default_factory=list)
    visit_grace: Seconds = 120  # after a missed check-in: a pre-alert, then this long before the alarm
    # People with this role in `roles:` are BHV-trained: only they take role 1 (approaches) and
    # role 2 (back-up, the BHV-maatje); anyone else who comes takes role 3 (stands by).
    bhv_role: str = "bhv"
    # A sign-in as present lapses after this long, so a forgotten sign-out does not leave
    # someone "present" for ever.
    presence_expires: Seconds = 12 * 3600
    records: Records = Field(default_factory=Records)
    # Share of alarms accepted within a time (escalation/targets.py); absent: the BS 8484 figures.
    response_targets: Annotated[list[ResponseTarget], AfterValidator(checked_targets)] = Field(
        default_factory=lambda: list(DEFAULT_TARGETS))

    def device_settings(self, device: Device) -> DeviceTypeSettings:
        """The type's supervision settings with the device's own overrides."""
        base = self.device_types.get(device.type) or DEFAULT_DEVICE_TYPES[device.type]
        return base.model_copy(update={k: v for k, v in (("supervision", device.supervision),
                                                          ("battery_low", device.battery_low)) if v is not None})

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use e.g. Europe/Amsterdam") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
