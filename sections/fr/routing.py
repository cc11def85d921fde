"""Where the French section's letters, cards and signatures go.

Letters go to the case's authority, by post in a weekly batch (by email in
a weekly digest where the authority has an address); solidarity cards to the
section, which forwards them; petition signatures to the embassy in Paris,
handed over on a day the section chooses (``flask deliveries bundle --now
--section fr``). The embassy addresses are demonstration data: check them
before anything is posted.
"""
from __future__ import annotations

from core.toolkit import AUTHORITY, EMBASSY, Recipient, RoutingPlan, RoutingRule

EMBASSIES = {
    "TN": Recipient("Ambassade de Tunisie en France", "S. E. l’Ambassadeur", ("25 rue Barbet-de-Jouy", "75007 Paris")),
    "MM": Recipient("Ambassade de la République de l’Union du Myanmar", "S. E. l’Ambassadeur", ("60 rue de Courcelles", "75008 Paris")),
    "KG": Recipient("Ambassade de la République kirghize en France", "S. E. l’Ambassadeur", ("3 rue Lalo", "75016 Paris")),
    "EC": Recipient("Ambassade de l’Équateur en France", "S. E. l’Ambassadeur", ("34 avenue de Messine", "75008 Paris")),
    "MG": Recipient("Ambassade de Madagascar en France", "S. E. l’Ambassadeur", ("4 avenue Raphaël", "75016 Paris")),
}

#: The section collects solidarity cards and forwards them to the people
#: they are written to, through people who can reach them safely.
CARD_RELAY = Recipient(
    "Écrire pour les droits — relais des cartes",
    "Section française (démonstration)",
    ("Service des cartes de solidarité", "75000 Paris"),
)

PLAN = RoutingPlan(
    rules={
        "letter": RoutingRule(to=AUTHORITY, channel="post", bundle=True, email_channel="email"),
        "card": RoutingRule(to=CARD_RELAY, channel="post", bundle=True),
        "signature": RoutingRule(to=EMBASSY, channel="handover", bundle=True, bundle_every=None),
    },
    embassies=EMBASSIES,
)
