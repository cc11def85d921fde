"""Where the Swiss section's letters, cards and signatures go.

Letters go to the embassy in Bern of the case's country, by post in a
weekly batch (to the authority itself where no embassy is known); cards to
the section, which forwards them; signatures to the embassy, handed over on
a day the section chooses (``flask deliveries bundle --now --section ch``).

DEMONSTRATION DATA: the embassy addresses below are placeholders for
development. Check every one of them against the official list of foreign
representations in Switzerland before anything is posted.
"""
from __future__ import annotations

from core.toolkit import EMBASSY, Recipient, RoutingPlan, RoutingRule

EMBASSIES = {
    "TN": Recipient("Botschaft der Tunesischen Republik", "S. E. der Botschafter", ("Kirchenfeldstrasse 63", "3005 Bern")),
    "MM": Recipient("Botschaft der Republik der Union Myanmar", "S. E. der Botschafter", ("Thunstrasse 50", "3005 Bern")),
    "KG": Recipient("Botschaft der Kirgisischen Republik", "S. E. der Botschafter", ("Weltpoststrasse 5", "3015 Bern")),
    "EC": Recipient("Botschaft der Republik Ecuador", "S. E. der Botschafter", ("Kramgasse 54", "3011 Bern")),
    "MG": Recipient("Botschaft der Republik Madagaskar", "S. E. der Botschafter", ("Marktgasse 20", "3011 Bern")),
}

#: The section collects solidarity cards and forwards them to the people
#: they are written to, through people who can reach them safely.
CARD_RELAY = Recipient(
    "Write for Rights — Kartendienst / relais des cartes / servizio cartoline",
    "Section suisse (démonstration / Demo / dimostrazione)",
    ("Postfach", "3001 Bern"),
)

PLAN = RoutingPlan(
    rules={
        "letter": RoutingRule(to=EMBASSY, channel="post", bundle=True),
        "card": RoutingRule(to=CARD_RELAY, channel="post", bundle=True),
        "signature": RoutingRule(to=EMBASSY, channel="handover", bundle=True, bundle_every=None),
    },
    embassies=EMBASSIES,
)
