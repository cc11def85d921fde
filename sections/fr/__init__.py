"""France: the French section's portal, in French."""
from __future__ import annotations

import datetime as dt

from core.toolkit import Branding, Campaign, LegalRules, SectionDefinition, hookimpl

from sections.fr.routing import PLAN

PRIVACY_FR = (
    "Nous utilisons votre nom, votre adresse électronique et votre pays uniquement pour compter votre action "
    "une seule fois et, pour une pétition, pour remettre la liste des signataires (nom et pays) aux autorités "
    "concernées. Votre adresse électronique n’est jamais remise à personne.\n\n"
    "Vos données sont conservées trois ans après la fin de la campagne, puis anonymisées. Vous pouvez à tout "
    "moment demander à y accéder, à les faire corriger ou à les faire effacer en écrivant au responsable du "
    "traitement."
)

SECTION = SectionDefinition(
    code="fr",
    name={"fr": "Écrire pour les droits · France"},
    hosts=("fr.localhost",),
    languages=("fr",),
    default_language="fr",
    timezone="Europe/Paris",
    country="FR",
    campaign=Campaign(opens=dt.date(2026, 11, 20), closes=dt.date(2026, 12, 31)),
    branding=Branding(primary_colour="#1a1a1a", accent_colour="#ffe100", text_on_accent="#1a1a1a", logo="logo.svg"),
    legal=LegalRules(
        consent_age=15,
        double_opt_in=False,
        retention_days=3 * 365,
        controller="Section française (données de démonstration)",
        # Under 15 (loi Informatique et libertés, art. 45), an action counts
        # without keeping anything personal.
        under_age="anonymous",
        newsletter=True,
        consent_wordings={
            "newsletter": {
                "fr": "Oui, je veux recevoir par e-mail des nouvelles de la campagne et des personnes pour qui nous "
                "agissons (désinscription possible à tout moment)."
            }
        },
        wording_version="fr-2026-1",
        privacy_notice={"fr": PRIVACY_FR},
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
    # The French portal shows a public wall of approved solidarity messages.
    plugin_settings={"solidarity_message": {"wall": True}},
)


@hookimpl
def ecrire_section():
    return SECTION


@hookimpl
def ecrire_letter_routing(section, case, request):
    return PLAN.route(section, case, request)
