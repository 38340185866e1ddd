"""The coordinator's pages and the employee's report form in headless Chromium, against code4
on a real broker: complete the record of an alarm a simulated button raised, report a
near-incident on a phone, read the heat map of a generated year. Screenshots go to
$CODE4_SCREENSHOTS, or the test's tmp dir."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from simulators.incidents import generate, send
from tests.browser.conftest import script_errors, sign_in
from tests.conftest import TESTORG
from tests.integration.harness import OPERATOR_PASSWORD, Harness

DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "nl-NL"}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "nl-NL"}
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the screenshots go: $CODE4_SCREENSHOTS, or the test's own tmp dir."""
    folder = Path(os.environ.get("CODE4_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_the_coordinator_completes_the_record_of_a_real_alarm(code4: Harness, browser: Browser,
                                                                     shots: Path) -> None:
    assert code4.service is not None
    await code4.add_user("coco", ["coordinator"], name="Coco Coördinator")
    sanne = code4.pager("pager-sanne")
    code4.pager("pager-mohamed")
    code4.button("knop-balie-1").press()
    page_to_sanne = await code4.wait(sanne.page)
    await code4.advance(12)
    sanne.respond(page_to_sanne["page_id"], "accept")
    alarm = await code4.alarm_when(lambda a: a["status"] == "accepted")
    await code4.api(f"/api/alarms/{alarm['uid']}/close", method="POST", json={"outcome": "resolved"})

    context = await browser.new_context(**DESK)
    page = await context.new_page()
    errors = script_errors(page, expected_status=(422,))
    base = code4.service.http_url
    await sign_in(page, base, "coco", OPERATOR_PASSWORD, "/incidents")
    row = page.locator(f"#incident-list tr[data-incident='{alarm['incident_id']}']")
    await expect(row).to_contain_text("alarm: paniekalarm")
    await expect(row).to_contain_text("open")
    await row.get_by_role("link").click()

    # Prefilled from the alarm and its timeline.
    await expect(page.locator("#record-title")).to_contain_text(f"Incident {alarm['incident_id']}")
    await expect(page.get_by_label("Datum en tijd")).to_have_value("2026-11-23T11:00")
    await expect(page.get_by_label("Vestiging")).to_have_value("stadhuis")
    await expect(page.get_by_label("Plaats (balie, kamer, adres)")).to_have_value(
        "Balie 1, Publiekshal, Stadhuis Testdorp")
    await expect(page.locator("#responders")).to_contain_text("Sanne de Jong: kwam (nr 3) om 23-11-2026 11:00")
    await expect(page.locator("#employer-address")).to_contain_text("adres van de werkgever")

    # Aftercare started when the alarm closed: the talks are there before any paperwork.
    await expect(page.locator("#aftercare tr.task.aftercare").first).to_contain_text("Opvang: gesprek op de dag zelf")

    # A first try with a contradiction: classes A and B are no aggression.
    await page.get_by_label("Betrokken medewerker").select_option(label="Eva Mulder")
    await page.get_by_label("A – vraagt een uitzondering, klaagt").check()
    await page.get_by_label("fysiek geweld, zaakgericht").check()
    await page.get_by_role("button", name="Opslaan en registratie afronden").click()
    await expect(page.locator("#not-saved")).to_have_text("Niet opgeslagen: 2 veld(en) kloppen niet.")
    await expect(page.locator("#err-abcd_class")).to_contain_text("kies C of D")
    await expect(page.locator("#err-description")).to_have_text("Vul dit in om de registratie af te ronden.")
    await expect(page.get_by_label("fysiek geweld, zaakgericht")).to_be_checked()  # nothing typed is lost
    await page.screenshot(path=shots / "record-1-validation.png", full_page=True)

    # Class D: the form asks about the police report, with the protocol's criteria.
    await page.get_by_label("D – fysiek geweld, bedreiging, intimidatie").check()
    await page.get_by_label("verbaal geweld", exact=True).check()
    await page.get_by_label("Omschrijving").fill("Bezoeker sloeg met een stoel tegen de balie en schreeuwde.")
    await page.get_by_role("button", name="Opslaan en registratie afronden").click()
    await expect(page.locator("#err-police_report")).to_have_text("Klasse D: vul in of er aangifte is gedaan.")
    await expect(page.locator("#aangifte-prompt")).to_contain_text("geweld tegen personen")

    # Every field of Bijlage 10.
    await page.locator("#colleagues").get_by_label("Mohamed Yilmaz").check()
    await page.get_by_label("Dader(s), vrije tekst").fill("Man, ca. 40 jaar, bekend van eerdere bezoeken.")
    await page.get_by_label("Relatie van de dader met de organisatie").select_option("client")
    await page.get_by_label("Is er letsel?").select_option("ja")
    await page.get_by_label("Letsel", exact=True).fill("Kneuzing aan de hand.")
    await page.get_by_label("Ziekenhuisopname").select_option("ja")
    await page.get_by_label("Blijvend letsel").select_option("nee")
    await page.get_by_label("Overlijden").select_option("nee")
    await page.get_by_label("Schade aan persoonlijke eigendommen van de medewerker?").select_option("ja")
    await page.get_by_label("Waaraan is schade? (persoonlijk)").fill("Bril")
    await page.get_by_label("Schade aan persoonlijke eigendommen (€)").fill("180,00")
    await page.get_by_label("Wordt verhaald (persoonlijk)").select_option("ja")
    await page.get_by_label("Schade aan eigendommen van de werkgever?").select_option("ja")
    await page.get_by_label("Waaraan is schade? (werkgever)").fill("Balieblad en stoel")
    await page.get_by_label("Schade aan eigendommen van de werkgever (€)").fill("250,00")
    await page.get_by_label("Wordt verhaald (werkgever)").select_option("ja")
    await page.get_by_label("Aangifte gedaan").select_option("ja")
    await page.get_by_label("Datum aangifte").fill("2026-11-23")
    await page.get_by_label("Proces-verbaalnummer").fill("PL1300-2026-77")
    await page.get_by_label("Adres werkgever gebruikt").select_option("ja")
    await page.get_by_label("Gaat het om recidive?").select_option("nee")
    await page.get_by_label("Wordt er een sanctie opgelegd?").select_option("warning")
    await page.get_by_label("Naam medewerker").fill("Eva Mulder")
    await page.get_by_label("Datum (medewerker)").fill("2026-11-23")
    await page.get_by_label("Naam afdelingshoofd").fill("Marieke van Dijk")
    await page.get_by_label("Datum (afdelingshoofd)").fill("2026-11-23")
    await page.screenshot(path=shots / "record-2-bijlage-10.png", full_page=True)
    await page.get_by_role("button", name="Opslaan en registratie afronden").click()
    await expect(page.locator("#saved")).to_have_text("Opgeslagen.")
    await expect(page.locator("#completed")).to_contain_text("Registratie afgerond")
    for label, value in (("Schade aan eigendommen van de werkgever (€)", "250,00"), ("Waaraan is schade? (persoonlijk)",
                         "Bril"), ("Relatie van de dader met de organisatie", "client"), ("Naam afdelingshoofd",
                         "Marieke van Dijk"), ("Datum (medewerker)", "2026-11-23"), ("Gaat het om recidive?", "nee")):
        await expect(page.get_by_label(label)).to_have_value(value)
    await expect(page.locator("#team-leads")).to_have_text("Marieke van Dijk")
    # Seven talks each for Eva and for Mohamed, the witness; art. 6.4's three tasks.
    await expect(page.locator("#aftercare tr.task")).to_have_count(17)
    await expect(page.locator("#aftercare tr.task b.subject")).to_have_count(7)
    await expect(page.locator("#aftercare tr.ai_phone")).to_contain_text("Nederlandse Arbeidsinspectie")
    await expect(page.locator("#duty")).to_contain_text("het afdelingshoofd licht HRM direct in.")
    await expect(page.locator("#debrief-prompt")).to_contain_text("werkoverleg")
    await page.screenshot(path=shots / "record-3-completed.png", full_page=True)

    # The duty is unmissable on the lists of the coordinator and of HRM.
    await page.goto(f"{base}/incidents")
    banner = page.locator("a.banner.szw")
    await expect(banner).to_contain_text(f"Incident {alarm['incident_id']} (ziekenhuisopname binnen 24 uur) moet "
                                         "nu naar de Nederlandse Arbeidsinspectie")
    await expect(page.locator("#incident-list")).to_have_count(0)  # nothing left to register
    await page.screenshot(path=shots / "incidents-duty-banner.png", full_page=True)
    await context.close()

    await code4.add_user("hans", ["hrm"], name="Hans HRM")
    context = await browser.new_context(**DESK)
    page = await context.new_page()
    await sign_in(page, base, "hans", OPERATOR_PASSWORD, "/incidents")
    await expect(page.locator("p.banner.szw")).to_contain_text("HRM meldt het direct telefonisch.")
    await expect(page.locator("#tasks tr")).to_have_count(3)  # the header, by phone, in writing
    await page.locator("#tasks tr.ai_phone").get_by_role("button", name="Gedaan").click()
    await expect(page.locator("p.banner.szw")).not_to_contain_text("HRM meldt het direct telefonisch.")
    await expect(page.locator("p.banner.szw")).to_contain_text("HRM bevestigt de melding daarna schriftelijk.")
    await page.screenshot(path=shots / "incidents-hrm.png", full_page=True)
    assert errors == []
    await context.close()


async def test_an_employee_reports_a_threat_on_a_phone(code4: Harness, browser: Browser, shots: Path) -> None:
    assert code4.service is not None
    await code4.add_user("sanne", ["employee"], person="sanne")
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    errors = script_errors(page, expected_status=(422,))
    base = code4.service.http_url
    await sign_in(page, base, "sanne", OPERATOR_PASSWORD, "/report")
    await expect(page.get_by_role("heading", name="Incident melden")).to_be_visible()
    await expect(page.locator("#r-when")).to_have_value("2026-11-23T11:00")  # now, already filled in

    # Sent without saying what happened: the form says so and keeps the choice made.
    await page.get_by_label("telefonisch").check()
    await page.get_by_role("button", name="Melden", exact=True).click()
    await expect(page.locator("#err-description")).to_have_text("Vul dit in om de registratie af te ronden.")
    await expect(page.get_by_label("telefonisch")).to_be_checked()

    await page.get_by_label("Wat is er gebeurd?").fill("Beller werd dreigend toen ik de regels uitlegde. "
                                                      "Hij hing op voordat het uit de hand liep.")
    await page.get_by_label("intimidatie (psychische druk, bedreiging)").check()
    # A threat is aggression, not a near-miss: the form says so.
    await page.get_by_label("Bijna-incident: er was geen agressie").check()
    await page.get_by_role("button", name="Melden", exact=True).click()
    await expect(page.locator("#err-near_miss")).to_have_text(
        "Een dreiging is agressie, geen bijna-incident. Haal het vinkje bij bijna-incident weg.")
    await page.get_by_label("Bijna-incident: er was geen agressie").uncheck()
    await page.screenshot(path=shots / "report-1-phone-form.png", full_page=True)
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        "the form fits the phone's width"
    await page.get_by_role("button", name="Melden", exact=True).click()

    await expect(page).to_have_url(f"{base}/me/reports?new=1")
    await expect(page.locator("#thanks")).to_have_text("Dank je wel. Je melding (nummer 1) is ontvangen.")
    progress = page.locator("article.progress[data-incident='1']")
    await expect(progress).to_contain_text("Ontvangen op 23-11-2026 11:00")
    await expect(progress).to_contain_text("Wacht op de coördinator")
    await expect(progress).to_contain_text("Nazorg: 0 van 6 gesprekken gehad")
    await page.screenshot(path=shots / "report-2-my-reports.png", full_page=True)

    record = await code4.call(await code4.add_user("coco", ["coordinator"]), "/api/incidents/1")
    body = record.json()
    assert (body["source"], body["registration"]["near_miss"], body["registration"]["contact_kind"]) == (
        "report", False, "phone")
    assert body["registration"]["aggression_forms"] == ["intimidatie"]
    assert errors == []
    await context.close()


async def test_the_report_page_shows_the_heat_map_of_a_year(code4: Harness, browser: Browser, shots: Path) -> None:
    assert code4.service is not None
    admin = await code4.add_user("beheer", ["admin"])
    coco = await code4.add_user("coco", ["coordinator"])
    incidents = generate(TESTORG, first=date(2025, 11, 24), last=date(2026, 11, 22), count=400, seed=11)
    await code4.wait(send, incidents, url=code4.service.http_url, token=admin)
    summary = (await code4.call(coco, "/api/learning/summary", since="2025-11-01")).json()
    peak = summary["peak"]
    incidents_only = 400 - sum(i.get("outcome") == "false_alarm" for i in incidents)
    assert (peak["weekday"], summary["total"]) == (0, incidents_only)

    context = await browser.new_context(**{**DESK, "viewport": {"width": 1400, "height": 1000}})
    page = await context.new_page()
    errors = script_errors(page)
    base = code4.service.http_url
    await sign_in(page, base, "coco", OPERATOR_PASSWORD, "/learning?from=2025-11-01")
    await expect(page.locator("#total")).to_have_text(str(incidents_only))
    await expect(page.locator("#not-incidents")).to_contain_text(str(summary["false_alarms"]))
    cells = page.locator("svg.heatmap rect.cell")
    await expect(cells).to_have_count(7 * 17)  # every day, 06:00 to 22:00
    hottest = page.locator(f"svg.heatmap rect[data-day='0'][data-hour='{peak['hour']}']")
    await expect(hottest).to_have_attribute("data-count", str(peak["count"]))
    await expect(hottest).to_have_attribute("fill", "#7a1a0d")  # the darkest colour
    counts = [int(c) for c in await cells.evaluate_all("cells => cells.map(c => c.dataset.count)")]
    assert max(counts) == peak["count"] and sum(counts) <= 400
    await expect(page.locator("#peak")).to_have_text(
        f"Piek: ma {peak['hour']:02d}:00–{peak['hour'] + 1:02d}:00 ({peak['count']} incidenten)")
    await expect(page.locator("#response")).to_contain_text("Opgeschaald naar BHV (code 4)")
    await page.screenshot(path=shots / "learning-heatmap.png", full_page=True)

    # The quarterly report, as it prints.
    await page.goto(f"{base}/learning/quarterly?q=2026-Q3")
    await expect(page.locator("h1")).to_have_text("Kwartaalrapportage agressie en geweld 2026-Q3")
    await expect(page.locator("#observations")).to_contain_text("Piek: ma")
    await page.emulate_media(media="print")
    await expect(page.locator("header.top")).to_be_hidden()
    await page.screenshot(path=shots / "quarterly-print.png", full_page=True)
    pdf_ready = await page.evaluate("document.querySelectorAll('svg.chart').length")
    assert pdf_ready >= 5
    # The same figures for the works council: no places, which may point at one person.
    await page.goto(f"{base}/learning/quarterly?q=2026-Q3&for=or")
    await expect(page.locator("h1")).to_have_text("Kwartaalcijfers voor de ondernemingsraad 2026-Q3")
    await expect(page.locator("article")).not_to_contain_text("Balie 1")
    assert errors == []
    await context.close()
