"""Belgium: the Belgian section's portal, in French and Dutch."""
from __future__ import annotations

import datetime as dt

from core.toolkit import Branding, Campaign, LegalRules, SectionDefinition, hookimpl

from sections.be.routing import PLAN

PRIVACY = {
    "fr": (
        "Nous utilisons votre nom, votre adresse électronique et votre pays uniquement pour compter votre action "
        "une seule fois et, pour une pétition, pour remettre la liste des signataires (nom et pays) aux autorités "
        "concernées. Votre adresse électronique n’est jamais remise à personne.\n\n"
        "Vos données sont conservées deux ans après la fin de la campagne, puis anonymisées. Vous pouvez demander "
        "à y accéder, à les faire corriger ou à les faire effacer en écrivant au responsable du traitement."
    ),
    "nl": (
        "We gebruiken je naam, je e-mailadres en je land alleen om je actie één keer te tellen en, bij een "
        "petitie, om de lijst van ondertekenaars (naam en land) aan de betrokken overheden te overhandigen. Je "
        "e-mailadres wordt nooit aan iemand doorgegeven.\n\n"
        "Je gegevens worden twee jaar na het einde van de campagne bewaard en daarna geanonimiseerd. Je kunt "
        "inzage, verbetering of verwijdering vragen door te schrijven naar de verwerkingsverantwoordelijke."
    ),
}

SECTION = SectionDefinition(
    code="be",
    name={"fr": "Écrire pour les droits · Belgique", "nl": "Write for Rights · België"},
    hosts=("be.localhost",),
    languages=("fr", "nl"),
    default_language="fr",
    timezone="Europe/Brussels",
    country="BE",
    campaign=Campaign(opens=dt.date(2026, 11, 20), closes=dt.date(2027, 1, 15)),
    branding=Branding(primary_colour="#0b3d5c", accent_colour="#ffe100", text_on_accent="#0b3d5c", logo="logo.svg"),
    legal=LegalRules(
        consent_age=13,
        double_opt_in=False,
        retention_days=2 * 365,
        controller="Section belge (données de démonstration / demogegevens)",
        under_age="anonymous",
        newsletter=True,
        consent_wordings={
            "newsletter": {
                "fr": "Oui, je veux recevoir par e-mail des nouvelles de la campagne (désinscription possible à tout moment).",
                "nl": "Ja, ik wil per e-mail nieuws over de campagne ontvangen (uitschrijven kan altijd).",
            }
        },
        wording_version="be-2026-1",
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
