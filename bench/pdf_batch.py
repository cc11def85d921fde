"""`make bench` (PDF step): a printed-post batch against a bare reportlab render.

For each batch size (default 1,000 and 4,000 letters) the same realistic
French letters (about 1,500 characters, with accents) are rendered twice,
each time in a fresh subprocess so neither inherits the other's memory:

* ``printed_post``: the real channel renderer (``plugins.printed_post``): a
  cover sheet, then each letter with letterhead, window address, date,
  wrapped paragraphs and signature;
* ``bare``: a bare reportlab canvas, same font, the letters' lines (wrapped
  beforehand, outside the timing) drawn with ``drawString``, one page each,
  no layout: the fastest this library goes.

Each child reports the render time (through ``save``), letters/s (wall
clock, and per CPU second, which a busy machine disturbs less), and its
peak RSS (``ru_maxrss``) next to its RSS once the letters are built and the
font loaded, so the render's own memory shows; flat memory means that growth
does not grow much from 1,000 to 4,000 letters. Targets (printed_post): at
least 250 letters/s, and memory flat. Missed targets are reported, never
asserted. Without an app context the cover sheet stays in English (the
letters themselves are printed as written).

Usage: ``python bench/pdf_batch.py [--sizes 1000,4000]``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATE = 250.0
#: Render memory (peak minus the RSS before rendering) may grow by at most
#: this many MB from the smallest to the largest batch and still be "flat".
FLAT_MB = 16.0

TOWNS = ("Besançon", "Orléans", "Nîmes", "Sète", "Périgueux", "Saint-Étienne", "Évreux", "Lyon", "Angoulême", "Montréal")
FIRST = ("Camille", "Zoé", "Hélène", "François", "Jérôme", "Léa", "Noël", "Chloé", "Anaïs", "Sébastien", "Gaëlle", "Loïc")
LAST = ("Martin", "Lefèvre", "Bénard", "Dupré", "Gérard", "Müller", "Faÿ", "Côté", "Mercier", "Lemaître", "Boëdec")
PARAGRAPHS = (
    (
        "Je vous écris au sujet de Sonia Dahmani, avocate et chroniqueuse tunisienne, emprisonnée depuis des mois "
        "pour avoir exprimé une opinion critique à la radio. Son seul « crime » est d’avoir parlé librement."
    ),
    (
        "Les accusations portées contre elle reposent sur un décret qui réprime la diffusion de prétendues fausses "
        "nouvelles ; il sert à faire taire les journalistes, les avocats et les défenseurs des droits humains. "
        "Sa santé s’est détériorée en détention et sa famille s’inquiète."
    ),
    (
        "Je vous prie instamment de la libérer immédiatement et sans condition, d’abandonner toutes les poursuites "
        "engagées contre elle, et de veiller à ce qu’elle soit traitée avec humanité en attendant sa libération, "
        "avec un accès régulier à sa famille, à ses avocats et aux soins médicaux dont elle a besoin."
    ),
    (
        "Je vous demande également de réviser le décret-loi 54 afin qu’il soit conforme aux obligations "
        "internationales de la Tunisie en matière de liberté d’expression, et de garantir que plus personne "
        "ne soit poursuivi pour avoir exercé pacifiquement ce droit fondamental."
    ),
    (
        "Je suivrai la situation de Sonia Dahmani avec la plus grande attention, comme des milliers de personnes "
        "qui, partout dans le monde, écrivent aujourd’hui pour elle. Je vous remercie par avance de l’attention "
        "que vous porterez à ma lettre et de la réponse que vous voudrez bien y apporter."
    ),
)


def letter_bodies(count: int) -> list[dict[str, str]]:
    """Deterministic letters of about 1,500 characters, each a little different."""
    rng = random.Random(4)
    bodies = []
    for n in range(count):
        chosen = list(PARAGRAPHS)
        middle = chosen[1:4]
        rng.shuffle(middle)
        chosen[1:4] = middle
        text = "\n\n".join(["Monsieur le Président de la République,", *chosen,
                            "Veuillez agréer, Monsieur le Président, l’expression de ma haute considération."])
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        bodies.append({"text": text, "signature": name, "town": rng.choice(TOWNS), "language": "fr",
                       "authority_title": "Président de la République tunisienne", "n": str(n)})
    return bodies


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(mode: str, count: int) -> dict:
    """One measurement, in this (fresh) process."""
    sys.path.insert(0, str(ROOT))
    bodies = letter_bodies(count)
    out = Path(tempfile.mkdtemp(prefix="pdf-bench-"))
    if mode == "printed_post":
        import datetime as dt

        from core.toolkit import (
            Branding,
            Campaign,
            DeliveryBatch,
            DeliveryItem,
            Recipient,
            SectionDefinition,
            register_letter_fonts,
        )
        from plugins.printed_post import write_batch

        today = dt.date.today()
        section = SectionDefinition("fr", {"fr": "Écrire pour les droits · France"}, (), ("fr",), "fr", "Europe/Paris", "FR",
                                    Campaign(today, today), branding=Branding(primary_colour="#1a1a1a"))
        recipient = Recipient("Ambassade de Tunisie", "Son Excellence l’Ambassadeur", ("25 rue Barbet de Jouy", "75007 Paris"))
        items = [DeliveryItem(i, f"letter-{i}", "fr", "sonia-dahmani", "letter", recipient, body, 1) for i, body in enumerate(bodies)]
        batch = DeliveryBatch(1, "bundle:fr:1", section, "sonia-dahmani", None, "letter", recipient, items, 1, out)
        register_letter_fonts()
        base = _current_rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        result = write_batch(batch)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        paths = [out / name for name in result.files]
        from pypdf import PdfReader

        pages = sum(len(PdfReader(path).pages) for path in paths)
    elif mode == "bare":
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen.canvas import Canvas

        from core.toolkit import LETTER_FONT, register_letter_fonts

        register_letter_fonts()
        prepared = [
            [line for paragraph in body["text"].split("\n") for line in (textwrap.wrap(paragraph, 90) or [""])]
            + ["", body["signature"], body["town"]]
            for body in bodies
        ]
        path = out / "bare.pdf"
        base = _current_rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        canvas = Canvas(str(path), pagesize=A4)
        for lines in prepared:
            canvas.setFont(LETTER_FONT, 11)
            y = 780.0
            for line in lines:
                canvas.drawString(70, y, line)
                y -= 14
            canvas.showPage()
        pages = canvas.getPageNumber() - 1
        canvas.save()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        paths = [path]
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    size = sum(path.stat().st_size for path in paths)
    shutil.rmtree(out)
    return {"mode": mode, "letters": count, "pages": pages, "seconds": seconds, "rate": count / seconds,
            "cpu_rate": count / cpu,
            "file_mb": size / 2**20, "base_mb": base, "peak_mb": _rss_mb(), "growth_mb": _rss_mb() - base}


def measure(mode: str, count: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(count)], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if result.returncode != 0:
        raise SystemExit(f"{mode} x {count} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_PDF_SIZES", "1000,4000"))
    parser.add_argument("--child", nargs=2, metavar=("MODE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return 0
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    rows = [measure(mode, size) for size in sizes for mode in ("printed_post", "bare")]
    print("\nPDF batch: printed_post renderer vs bare reportlab canvas (each in a fresh process)")
    print(f"{'renderer':<13} {'letters':>7} {'pages':>6} {'seconds':>8} {'letters/s':>10} {'file MB':>8} "
          f"{'RSS before':>10} {'peak RSS':>9} {'render MB':>9} {'per CPU s':>9}")
    for row in rows:
        print(f"{row['mode']:<13} {row['letters']:>7} {row['pages']:>6} {row['seconds']:>8.2f} {row['rate']:>10.0f} "
              f"{row['file_mb']:>8.1f} {row['base_mb']:>10.1f} {row['peak_mb']:>9.1f} {row['growth_mb']:>9.1f} "
              f"{row['cpu_rate']:>9.0f}")
    ours = {row["letters"]: row for row in rows if row["mode"] == "printed_post"}
    bare = {row["letters"]: row for row in rows if row["mode"] == "bare"}
    for size in sizes:
        print(f"ratio printed_post/bare at {size}: {ours[size]['rate'] / bare[size]['rate']:.2f} "
              f"(per CPU second: {ours[size]['cpu_rate'] / bare[size]['cpu_rate']:.2f})")
    slowest = min(row["rate"] for row in ours.values())
    print(f"target >= {TARGET_RATE:.0f} letters/s: {'met' if slowest >= TARGET_RATE else 'MISSED'} (slowest {slowest:.0f}/s)")
    if len(sizes) > 1:
        low, high = min(sizes), max(sizes)
        for name, rows_by_size in (("printed_post", ours), ("bare", bare)):
            small, large = rows_by_size[low], rows_by_size[high]
            slope = (large["growth_mb"] - small["growth_mb"]) * 1024 / (high - low)
            print(f"render memory {name}: {small['growth_mb']:.1f} MB at {low} -> {large['growth_mb']:.1f} MB at {high} "
                  f"letters ({slope:.1f} KB per extra letter)")
        grew = ours[high]["growth_mb"] - ours[low]["growth_mb"]
        print(f"memory flat (printed_post grows <= {FLAT_MB:.0f} MB from {low} to {high}): "
              f"{'met' if grew <= FLAT_MB else 'MISSED'} (+{grew:.1f} MB; printed_post writes one file per "
              "250 letters, the bare canvas one file for all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
