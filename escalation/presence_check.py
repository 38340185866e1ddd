"""`code4 check` on presence: which steps page only those present (`present: true`), and a
warning for each that the people in the file can never fill.

Static: a target is read as every person it can ever name, whatever the roster says and
whoever is in the building; if even they are fewer than `required`, the step always falls
short and the chain always moves on from it at once.
"""

from __future__ import annotations

from escalation.directory import Directory
from escalation.loader import Issue, LineMap
from escalation.model import Step, Target
from escalation.planning import Presence


def presence_steps(directory: Directory) -> list[str]:
    """One line per step with a `present: true` target, for the report."""
    lines = []
    for agreement in directory.org.agreements:
        for step in agreement.steps:
            if any(t.present for t in step.targets):
                targets = "; ".join(t.describe() for t in step.targets)
                lines.append(f"  {agreement.id} / {step.id}: {targets}; {step.required} needed, "
                              f"at most {_most(directory, step)} can be there")
    return lines


def present_now(directory: Directory, present: Presence) -> list[str]:
    """Per site, who is present (as the service's database says), for the report."""
    out = []
    for site in directory.org.sites:
        names = sorted(directory.people[p].name for p, s in present if s == site.id and p in directory.people)
        out.append(f"  {site.id}: {', '.join(names) if names else 'nobody'}")
    return out


def presence_warnings(directory: Directory, lines: LineMap) -> list[Issue]:
    issues = []
    for ai, agreement in enumerate(directory.org.agreements):
        for si, step in enumerate(agreement.steps):
            if not any(t.present for t in step.targets) or step.alongside:
                continue
            most = _most(directory, step)
            if most < step.required:
                issues.append(lines.issue(("agreements", ai, "steps", si, "required"), (
                    f"step {step.id!r} needs {step.required} but at most {most} of the people it names can ever "
                    "be present: it always falls short and the chain moves on from it at once"), "warning"))
    return issues


def _most(directory: Directory, step: Step) -> int:
    """How many the step can ever reach: everyone its targets can name, each outside contact once."""
    found: set[str] = set()
    for target in step.targets:
        found |= _named(directory, target)
    return len(found)


def _named(directory: Directory, target: Target) -> set[str]:
    if target.contact:
        return {f"contact:{target.contact}"}
    if target.person:
        return {target.person}
    if target.team:
        return {p.id for p in directory.org.people if target.team in p.teams}
    rostered = {rule.person for rule in directory.org.duty if rule.role == target.role}
    return {p.id for p in directory.org.people if target.role in p.roles or (target.on_duty and p.id in rostered)}
