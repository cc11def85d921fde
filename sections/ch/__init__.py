"""Switzerland: the Swiss section's portal, in German, French and Italian.

Legal facts (revised Federal Act on Data Protection, nFADP / nDSG / nLPD, in
force since 1 September 2023). The core enforces the rules in
:class:`LegalRules` below; this says where each comes from:

- Consent age: the nFADP sets no fixed age for a minor's own consent (it
  depends on the person's capacity of discernment). **16 is this section's
  policy**, not a figure from the law.
- Under that age: a parent confirms by a link sent to their address
  (``under_age="parent"``; section policy, the law does not require it in
  every case).
- Double opt-in for the newsletter: not required by the law, but the
  section's practice (``double_opt_in=True``): the sign-up request is kept as
  proof and confirmed by a link.
- Retention: supporters' personal data kept two years after the campaign
  closes, then anonymised (counts are kept).
- Controller: "Section suisse (données de démonstration)" — demonstration
  data; the real section's name and address go here.
- Privacy notice: in French, German and Italian (``PRIVACY`` below). Rights
  under the nFADP: access (art. 25), rectification and erasure (art. 32),
  data portability (art. 28); answer within 30 days.
"""
from __future__ import annotations

import datetime as dt

from core.toolkit import Branding, Campaign, LegalRules, SectionDefinition, hookimpl

from sections.ch.routing import PLAN

PRIVACY = {
    "de": (
        "Wir speichern Ihren Namen, Ihre E-Mail-Adresse und Ihr Land. Wir verwenden sie nur, um Ihre Aktion "
        "einmal zu zählen und, bei einer Petition, um die Liste der Unterzeichnenden (Name und Land) den "
        "zuständigen Behörden zu übergeben. Ihre E-Mail-Adresse geben wir niemandem weiter.\n\n"
        "Ihre Daten werden zwei Jahre nach dem Ende der Kampagne aufbewahrt und danach anonymisiert. Nach dem "
        "revidierten Datenschutzgesetz (DSG) können Sie jederzeit Auskunft über Ihre Daten verlangen und sie "
        "berichtigen oder löschen lassen, indem Sie der verantwortlichen Stelle schreiben."
    ),
    "fr": (
        "Nous enregistrons votre nom, votre adresse électronique et votre pays. Nous les utilisons uniquement "
        "pour compter votre action une seule fois et, pour une pétition, pour remettre la liste des signataires "
        "(nom et pays) aux autorités concernées. Votre adresse électronique n’est transmise à personne.\n\n"
        "Vos données sont conservées deux ans après la fin de la campagne, puis anonymisées. Selon la loi "
        "fédérale révisée sur la protection des données (LPD), vous pouvez à tout moment demander à y accéder, "
        "à les faire rectifier ou à les faire effacer en écrivant au responsable du traitement."
    ),
    "it": (
        "Registriamo il tuo nome, il tuo indirizzo e-mail e il tuo paese. Li usiamo soltanto per contare la tua "
        "azione una sola volta e, per una petizione, per consegnare l’elenco dei firmatari (nome e paese) alle "
        "autorità interessate. Il tuo indirizzo e-mail non viene trasmesso a nessuno.\n\n"
        "I tuoi dati sono conservati per due anni dopo la fine della campagna e poi resi anonimi. In base alla "
        "legge federale riveduta sulla protezione dei dati (LPD) puoi chiedere in qualsiasi momento di "
        "consultarli, rettificarli o cancellarli scrivendo al titolare del trattamento."
    ),
}

SECTION = SectionDefinition(
    code="ch",
    name={
        "de": "Write for Rights · Schweiz",
        "fr": "Écrire pour les droits · Suisse",
        "it": "Scrivi per i diritti · Svizzera",
    },
    hosts=("ch.localhost",),
    languages=("de", "fr", "it"),
    default_language="de",
    timezone="Europe/Zurich",
    country="CH",
    campaign=Campaign(opens=dt.date(2026, 11, 20), closes=dt.date(2026, 12, 31)),
    branding=Branding(primary_colour="#7a1f2b", accent_colour="#f4f1ea", text_on_accent="#7a1f2b", logo="logo.svg"),
    legal=LegalRules(
        # Section policy: the nFADP fixes no digital-consent age.
        consent_age=16,
        retention_days=2 * 365,
        controller="Section suisse (données de démonstration)",
        under_age="parent",
        # A newsletter sign-up is confirmed by a link, and the request is kept.
        newsletter=True,
        double_opt_in=True,
        consent_wordings={
            "newsletter": {
                "de": "Ja, ich möchte per E-Mail Neuigkeiten zur Kampagne erhalten (Abmeldung jederzeit möglich).",
                "fr": "Oui, je veux recevoir par e-mail des nouvelles de la campagne (désinscription possible à tout moment).",
                "it": "Sì, voglio ricevere via e-mail notizie sulla campagna (disiscrizione possibile in qualsiasi momento).",
            }
        },
        wording_version="ch-2026-1",
        privacy_notice=PRIVACY,
    ),
    default_plugins=(
        "petition",
        "appeal_letter",
        "solidarity_message",
        "share",
        "offline_tally",
        "demo_cases",
        "printed_post",
        "handover_pack",
        "email_channel",
    ),
)


@hookimpl
def ecrire_section():
    return SECTION


@hookimpl
def ecrire_letter_routing(section, case, request):
    return PLAN.route(section, case, request)
