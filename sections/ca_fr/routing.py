"""Where the francophone Canadian section's letters, cards and signatures go.

Letters go to the embassy in Ottawa of the case's country, by post in a
weekly batch (to the authority itself where no embassy is known); cards to
the section, which forwards them; signatures to the embassy, handed over on
a day the section chooses (``flask deliveries bundle --now --section ca_fr``).

DONNÉES DE DÉMONSTRATION: the embassy addresses below are placeholders for
development. Check every one of them against Global Affairs Canada's list of
foreign representatives before anything is posted.
"""
from __future__ import annotations

from core.toolkit import EMBASSY, Recipient, RoutingPlan, RoutingRule

EMBASSIES = {
    "TN": Recipient("Ambassade de la République tunisienne au Canada", "S. E. l’Ambassadeur", ("515, rue O’Connor", "Ottawa (Ontario)  K1S 3P8")),
    "MM": Recipient("Ambassade de la République de l’Union du Myanmar", "S. E. l’Ambassadeur", ("336, avenue Island Park", "Ottawa (Ontario)  K1Y 0A7")),
    "KG": Recipient("Ambassade de la République kirghize", "S. E. l’Ambassadeur", ("130, rue Albert", "Ottawa (Ontario)  K1P 5G4")),
    "EC": Recipient("Ambassade de l’Équateur au Canada", "S. E. l’Ambassadeur", ("99, rue Bank", "Ottawa (Ontario)  K1P 6B9")),
    "MG": Recipient("Ambassade de Madagascar au Canada", "S. E. l’Ambassadeur", ("3, rue Raymond", "Ottawa (Ontario)  K1R 1A3")),
}

CARD_RELAY = Recipient(
    "Écrire pour les droits — relais des cartes",
    "Section canadienne francophone (démonstration)",
    ("Service des cartes de solidarité", "Montréal (Québec)  H2X 0A0"),
)

PLAN = RoutingPlan(
    rules={
        "letter": RoutingRule(to=EMBASSY, channel="post", bundle=True),
        "card": RoutingRule(to=CARD_RELAY, channel="post", bundle=True),
        "signature": RoutingRule(to=EMBASSY, channel="handover", bundle=True, bundle_every=None),
    },
    embassies=EMBASSIES,
)
