"""`code4 check FILE`: validate an agreement file and show what each place's alarm would do now.

Also the one way the service loads a file, so that `check` and `run` never disagree about
what is valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from escalation.coverage import (
    ContextCoverage,
    contexts,
    coverage,
    describe_ranges,
    unused_agreements,
)
from escalation.directory import Directory
from escalation.loader import AgreementFileError, Issue, LoadedOrganisation, load_file
from escalation.model import Organisation
from escalation.pins import PinDigests
from escalation.plan import ChannelKind, Plan
from escalation.plan_places import plan_issues
from escalation.planning import Presence, plan_for_place
from escalation.presence_check import presence_steps, presence_warnings, present_now
from escalation.protocol_check import role_warnings
from escalation.references import check_references
from escalation.targets import describe_targets
from escalation.weekly import DUTCH_DAY, minute_of_week


@dataclass
class CheckResult:
    loaded: LoadedOrganisation | None
    issues: list[Issue] = field(default_factory=list)
    gaps: list[Issue] = field(default_factory=list)  # places without a path to help at some hours
    covered: list[ContextCoverage] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"] + self.gaps

    @property
    def ok(self) -> bool:
        return self.loaded is not None and not self.errors


def _as_checked(org: Organisation) -> Directory:
    """The file alone cannot say who turned on notifications in the responder app: `check`
    counts everyone as reachable on `push` (as it counts everyone a `present: true` target
    names), and says so where a chain uses push."""
    everyone = frozenset(p.id for p in org.people)
    return Directory(org, push_people=lambda: everyone)


def check_file(path: str | Path) -> CheckResult:
    try:
        loaded = load_file(path)
    except AgreementFileError as exc:
        return CheckResult(None, list(exc.issues))
    issues = check_references(loaded.organisation, loaded.lines)
    issues += plan_issues(loaded.organisation, loaded.lines)
    if any(i.severity == "error" for i in issues):
        return CheckResult(loaded, issues)
    directory = _as_checked(loaded.organisation)
    issues += role_warnings(directory, loaded.lines)
    issues += presence_warnings(directory, loaded.lines)
    covered = coverage(directory)
    gaps: list[Issue] = []
    for item in covered:
        hours = item.gaps()
        if hours:
            kind = "" if item.kind == "panic" else f" for {item.kind} alarms"
            gaps.append(Issue(
                loaded.lines.file, loaded.lines.line_of(item.context.path), item.context.label,
                f"no path to help{kind} on {describe_ranges(hours)} "
                "(every step reaches nobody then: check duty rosters and same_zone)",
            ))
    for agreement_id in unused_agreements(directory, covered):
        index = next(i for i, a in enumerate(loaded.organisation.agreements) if a.id == agreement_id)
        issues.append(loaded.lines.issue(
            ("agreements", index), f"agreement {agreement_id!r} never applies: an earlier one "
            "always matches first, or its match names nothing that exists", "warning",
        ))
    return CheckResult(loaded, issues, gaps, covered)


def load_organisation(path: str | Path) -> tuple[LoadedOrganisation, list[Issue]]:
    """For the service: raises AgreementFileError when the file cannot be used at all.

    Coverage gaps are returned, not raised: a service that runs with a gap still answers every
    other alarm, and its operators see the gap in the log and in `code4 check`.
    """
    result = check_file(path)
    blocking = [i for i in result.issues if i.severity == "error"]
    if result.loaded is None or blocking:
        raise AgreementFileError(blocking)
    return result.loaded, result.issues + result.gaps


def render_report(result: CheckResult, *, now: datetime, present: Presence | None = None) -> str:
    """The report `code4 check` prints. `present`: who is present where now (read from the
    service's database by `code4 check --present`); None: not known, every `present: true`
    target counts everyone it names."""
    lines: list[str] = []
    if result.loaded is None:
        lines += [str(i) for i in result.issues]
        lines.append(f"FAILED: {len(result.errors)} error(s); the file was not loaded")
        return "\n".join(lines)
    org = result.loaded.organisation
    directory = _as_checked(org)
    places = directory.all_places()
    lines.append(
        f"{org.organisation}: {len(org.sites)} site(s), {len(places)} location(s), "
        f"{len(org.people)} people, {len(org.contacts)} contact(s), {len(org.devices)} device(s), "
        f"{len(org.agreements)} agreement(s); fallback {org.fallback}"
    )
    lines.append(describe_targets(org.response_targets))
    if not result.errors or result.covered:
        lines += _chains_now(directory, now, present)
    only_fallback = [
        (c.context.label, c.fallback_only()) for c in result.covered
        if c.kind == "panic" and c.fallback_only() and c.context.device_type is not None
    ]
    if any(ChannelKind.PUSH in step.channels for agreement in org.agreements for step in agreement.steps):
        lines.append("\npush reaches a person once they turned on notifications in the responder app; "
                     "this check counts everyone as reachable on it.")
    if present_only := presence_steps(directory):
        lines.append("\nSteps that page only those present (signed in on site, or a pager that counts):")
        lines += present_only
    if present is not None:
        lines.append("\nPresent now (from the service's database):")
        lines += present_now(directory, present)
    if only_fallback:
        lines.append("\nHours where only the fallback agreement applies:")
        lines += [f"  {label}: {describe_ranges(ranges)}" for label, ranges in only_fallback]
    every = result.issues + result.gaps
    if every:
        lines.append("")
        lines += [str(i) for i in every]
    errors = len(result.errors)
    warnings = len(every) - errors
    if errors:
        lines.append(f"\nFAILED: {errors} error(s), {warnings} warning(s)")
    else:
        lines.append(
            f"\nOK: every location and device type has a path to help at every hour of the week"
            f"{f' ({warnings} warning(s))' if warnings else ''}"
        )
    return "\n".join(lines)


def _chains_now(directory: Directory, now: datetime, present: Presence | None) -> list[str]:
    """The chain each place would run at `now`; places whose chain is the same are shown once,
    so a difference stands out."""
    org = directory.org
    local = now.astimezone(org.tz)
    lines = [f"\nChain that would run now ({DUTCH_DAY[local.weekday()]} {local:%d-%m-%Y %H:%M} {org.timezone}):"]
    minute = minute_of_week(now, org.tz)
    groups: dict[tuple[str, ...], list[str]] = {}
    for context in contexts(directory):
        plan = plan_for_place(
            directory, device_id=context.device_id, device=context.device,
            place=context.place, kind="panic", minute=minute, pins=PinDigests.ephemeral(), present=present,
        )
        where = context.place.describe() or "position reported by the device"
        groups.setdefault(tuple(_render_chain(plan)), []).append(f"{context.label}  {where}")
    for chain, labels in groups.items():
        lines.append("")
        lines += [f"  {label}" for label in labels]
        lines += chain
    return lines


def _render_chain(plan: Plan) -> list[str]:
    flag = " [fallback]" if plan.fallback else ""
    out = [f"    agreement {plan.agreement_id}{flag}"]
    number = 0
    for index, step in enumerate(plan.steps):
        code = f" code {step.code}" if step.code else ""
        names = [_named(plan, t.recipient) for t in step.targets]
        if step.alongside:
            reach = ", ".join(names) if names else "nobody"
            out.append(f"       + alongside: {step.id}{code}: {', '.join(step.channels)}, not waited for -> {reach}")
        else:
            number += 1
            timing = f"{step.ack_timeout_s}s" if step.ack_timeout_s else f"repeats every {plan.repeat_every_s}s"
            severe = " (on_severe)" if plan.severe_step == index else ""
            reach = ", ".join(names) if names else "NOBODY (step is skipped)"
            reach += " (only those present)" if step.presence else ""
            reach += f"; CANNOT BE MET now: {len(step.targets)} of {step.required} present" if step.short else ""
            out.append(
                f"    {number}. {step.id}{code}{severe}: {', '.join(step.channels)}, {timing}, "
                f"{step.required} needed -> {reach}"
            )
        if step.unreachable:
            out.append(f"       not reachable on {', '.join(step.channels)}: {', '.join(step.unreachable)}")
    if plan.device.person_name:
        out.append(f"    never paged (the person in danger): {plan.device.person_name}")
    if plan.informed:
        informed = [f"{plan.recipient(t.recipient).name} ({t.routes[0].channel})" for t in plan.informed]
        out.append(f"    informed at once (afdelingshoofd): {', '.join(informed)}")
    return out


def _named(plan: Plan, key: str) -> str:
    """A name, marked when the person is BHV-trained (may take role 1 or 2)."""
    recipient = plan.recipient(key)
    return f"{recipient.name} [BHV]" if recipient.bhv else recipient.name
