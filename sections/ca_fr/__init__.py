"""Canada (francophone): the section's portal, in French.

Legal facts (Quebec's Act respecting the protection of personal information
in the private sector, as amended by Law 25). The fields of
:class:`LegalRules` hold what the core stores today; the rest is written
here, to be wired when the core enforces section rules:

- Consent age: 14. Under 14, a parent (person having parental authority) or
  tutor must consent for the young person (Law 25, s. 4.1): the portal must
  ask for a parent's confirmation, or limit the action to an anonymous one.
- Double opt-in for the newsletter: not required by the law; not used
  (``double_opt_in=False``). Consent must be express, separate for each
  purpose, and nothing is pre-ticked.
- Retention: supporters' personal data kept one year after the campaign
  closes, then anonymised (Law 25: destroyed or anonymised once the purpose
  is achieved).
- Controller: "Section canadienne francophone (données de démonstration)".
  Law 25 requires a person in charge of the protection of personal
  information (by default the organisation's highest authority), whose
  title and contact details are published: here "Responsable de la
  protection des renseignements personnels", vie-privee@ca-fr.example
  (demonstration data).
- Privacy notice: in French (``PRIVACY_FR`` below).
"""
from __future__ import annotations

import datetime as dt

from core.toolkit import Branding, Campaign, LegalRules, SectionDefinition, hookimpl

from sections.ca_fr.routing import PLAN

PRIVACY_OFFICER = "Responsable de la protection des renseignements personnels"
PRIVACY_CONTACT = "vie-privee@ca-fr.example"

PRIVACY_FR = (
    "Nous recueillons votre nom, votre adresse courriel et votre pays. Nous les utilisons seulement pour "
    "compter votre action une seule fois et, pour une pétition, pour remettre la liste des signataires (nom et "
    "pays) aux autorités concernées. Votre adresse courriel n’est jamais communiquée à qui que ce soit.\n\n"
    "Si vous avez moins de 14 ans, un parent ou un tuteur doit consentir pour vous.\n\n"
    "Vos renseignements personnels sont conservés un an après la fin de la campagne, puis anonymisés. Vous "
    "pouvez demander à y accéder, à les faire rectifier ou à les faire supprimer, et retirer votre "
    f"consentement, en écrivant à notre {PRIVACY_OFFICER.lower()} à l’adresse {PRIVACY_CONTACT} "
    "(données de démonstration)."
)

SECTION = SectionDefinition(
    code="ca_fr",
    name={"fr": "Écrire pour les droits · Canada francophone"},
    hosts=("ca-fr.localhost",),
    languages=("fr",),
    default_language="fr",
    timezone="America/Toronto",
    country="CA",
    campaign=Campaign(opens=dt.date(2026, 11, 20), closes=dt.date(2026, 12, 31)),
    branding=Branding(primary_colour="#1d3a5f", accent_colour="#f2c14e", text_on_accent="#1d3a5f", logo="logo.svg"),
    legal=LegalRules(
        consent_age=14,
        double_opt_in=False,
        retention_days=365,
        controller="Section canadienne francophone (données de démonstration)",
        # Law 25: under 14, a parent or tutor consents; the year of birth is asked.
        age_check="birth_year",
        under_age="parent",
        newsletter=True,
        consent_wordings={
            "newsletter": {"fr": "Oui, je veux recevoir par courriel des nouvelles de la campagne (désabonnement en tout temps)."},
            "parent": {
                "fr": "Je suis le parent ou le tuteur de cette personne de moins de 14 ans et je consens à sa "
                "participation à cette action."
            },
        },
        wording_version="ca-fr-2026-1",
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
)


@hookimpl
def ecrire_section():
    return SECTION


@hookimpl
def ecrire_letter_routing(section, case, request):
    return PLAN.route(section, case, request)
