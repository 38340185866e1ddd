"""Warnings where an agreement works against the protocol's "Leidraad BHV-ers": the BHV are
paged first ("in eerste instantie de BHV leden"), and only BHV-trained people take role 1
(approach) and role 2 (back-up).

Static: a target is read as every person it can ever name, whatever the roster says.
"""

from __future__ import annotations

from escalation.directory import Directory
from escalation.loader import Issue, LineMap
from escalation.model import Agreement, Person, Step, Target


def role_warnings(directory: Directory, lines: LineMap) -> list[Issue]:
    issues: list[Issue] = []
    for ai, agreement in enumerate(directory.org.agreements):
        people = [_people(directory, step) for step in agreement.steps]
        # The BHV step: the first that pages BHV-trained people only.
        first_bhv = next((i for i, found in enumerate(people) if found and all(map(directory.is_bhv, found))), None)
        for si, step in enumerate(agreement.steps):
            others = sorted(p.name for p in people[si] if not directory.is_bhv(p))
            if not others:
                continue
            path = ("agreements", ai, "steps", si)
            if first_bhv is not None and si < first_bhv and not step.alongside:
                bhv_step = agreement.steps[first_bhv].id
                issues.append(lines.issue(path, (
                    f"step {step.id!r} asks people who are not BHV-trained ({', '.join(others)}) before step "
                    f"{bhv_step!r} pages the BHV: one accept here can end the chain before any BHV-er is paged, "
                    f"and they can only stand by (role 3); page the BHV first and let {step.id!r} run "
                    "`alongside: true`"), "warning"))
            elif step.code and not step.alongside:
                issues.append(lines.issue(path, (
                    f"step {step.id!r} pages code {step.code} to people who are not BHV-trained "
                    f"({', '.join(others)}): they can only stand by (role 3), and `required: {step.required}` "
                    "counts them as if they could approach; page them in a step alongside"), "warning"))
        if not any(directory.is_bhv(p) for found in people for p in found) and _in_building(agreement):
            issues.append(lines.issue(("agreements", ai), (
                f"agreement {agreement.id!r} reaches no BHV-trained person (role {directory.org.bhv_role!r}): "
                "nobody can take role 1 or 2, whoever comes only stands by"), "warning"))
    return issues


def _people(directory: Directory, step: Step) -> list[Person]:
    found: dict[str, Person] = {}
    for target in step.targets:
        for person in _named(directory, target):
            found[person.id] = person
    return list(found.values())


def _named(directory: Directory, target: Target) -> list[Person]:
    people = [p for p in directory.org.people if directory.person_zone_keys(p) or not target.same_zone]
    if target.person:
        return [p for p in people if p.id == target.person]
    if target.team:
        return [p for p in people if target.team in p.teams]
    if target.role:
        rostered = {rule.person for rule in directory.org.duty if rule.role == target.role}
        return [p for p in people if target.role in p.roles or (target.on_duty and p.id in rostered)]
    return []  # an outside contact takes no role


def _in_building(agreement: Agreement) -> bool:
    """Alarms from fixed buttons may run it: the BHV is the building's emergency team."""
    types = agreement.match.device_types
    return types is None or "fixed_button" in types
