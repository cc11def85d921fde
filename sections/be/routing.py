"""Where the Belgian section's letters, cards and signatures go.

Letters go to the embassy in Brussels of the case's country, by post in a
weekly batch (to the authority itself where no embassy is known); cards to
the section, which forwards them; signatures to the embassy, handed over on
a day the section chooses (``flask deliveries bundle --now --section be``).
The embassy addresses are demonstration data: check them before anything
is posted.
"""
from __future__ import annotations

from core.toolkit import EMBASSY, Recipient, RoutingPlan, RoutingRule

EMBASSIES = {
    "TN": Recipient("Ambassade de Tunisie en Belgique", "S. E. l’Ambassadeur", ("Avenue de Tervueren 278", "1150 Bruxelles")),
    "MM": Recipient("Ambassade du Myanmar en Belgique", "S. E. l’Ambassadeur", ("Boulevard Général Wahis 9", "1030 Bruxelles")),
    "KG": Recipient("Ambassade de la République kirghize en Belgique", "S. E. l’Ambassadeur", ("Rue de l’Abbaye 47", "1050 Bruxelles")),
    "EC": Recipient("Ambassade de l’Équateur en Belgique", "S. E. l’Ambassadeur", ("Avenue Louise 363", "1050 Bruxelles")),
    "MG": Recipient("Ambassade de Madagascar en Belgique", "S. E. l’Ambassadeur", ("Avenue de Tervueren 276", "1150 Bruxelles")),
}

CARD_RELAY = Recipient(
    "Write for Rights — relais des cartes / kaartendienst",
    "Section belge (démonstration / demo)",
    ("Service des cartes de solidarité", "1000 Bruxelles"),
)

PLAN = RoutingPlan(
    rules={
        "letter": RoutingRule(to=EMBASSY, channel="post", bundle=True),
        "card": RoutingRule(to=CARD_RELAY, channel="post", bundle=True),
        "signature": RoutingRule(to=EMBASSY, channel="handover", bundle=True, bundle_every=None),
    },
    embassies=EMBASSIES,
)
