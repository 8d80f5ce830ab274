"""axe-core (pinned in tools/a11y/package.json) run in Chromium on the site, the decks and
JupyterLab: the accessibility checks of tests/tools/test_browser.py, and a report for people.

Usage: python tools/a11y/audit.py SITE_DIR [DECK_DIR]
   prints one line per place (page x colour mode, deck slide) with its violations by impact
   (critical/serious/moderate/minor) under the WCAG 2.0/2.1 A and AA rules, then the totals.

axe runs inside the page (``axe.run``); the script is injected from the local npm install
(``make setup`` runs ``npm ci`` in tools/a11y), so nothing comes from the network.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
#: The WCAG 2.0 and 2.1 level A and AA rules (axe's tags); best practices are not rules.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
IMPACTS = ("critical", "serious", "moderate", "minor")
CHROMIUM = "/usr/bin/chromium"
#: ms: generous, for a loaded 2-core machine (waits are for conditions, never fixed sleeps)
TIMEOUT = 180_000
#: Chromium flags: no sandbox (containers and CI run as root), no GPU (headless).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]


def axe(page, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[dict]:
    """axe's violations on ``page`` (WCAG 2.0/2.1 A and AA), limited to the elements matching
    the CSS selectors ``include`` (all of the document when empty) minus ``exclude``. Each
    violation is a dict with ``id``, ``impact``, ``help`` and ``nodes`` (their CSS targets and
    HTML)."""
    if not AXE_JS.is_file():
        raise FileNotFoundError(f"{AXE_JS} is missing: run make setup (npm ci in tools/a11y)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    context = {"include": [[i] for i in include] or [["html"]], "exclude": [[e] for e in exclude]}
    return page.evaluate(
        """async ([context, tags]) => {
            const r = await axe.run(context, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                          summary: n.failureSummary}))}));
        }""",
        [context, list(WCAG_TAGS)],
    )


def by_impact(violations: list[dict]) -> Counter:
    """How many failing elements per impact (one violation can fail many elements)."""
    counts: Counter = Counter({k: 0 for k in IMPACTS})
    for v in violations:
        counts[v["impact"] or "minor"] += len(v["nodes"])
    return counts


def blocking(violations: list[dict]) -> list[str]:
    """The critical and serious violations, one readable line each (empty: none)."""
    return [
        f"{v['impact']} {v['id']} ({v['help']}): " + "; ".join(n["target"] for n in v["nodes"][:3])
        for v in violations
        if v["impact"] in ("critical", "serious")
    ]


def site_pages(site: Path) -> list[Path]:
    """Every content page of a built site (Sphinx's genindex/search pages included)."""
    skip = {"_static", "_sources", "slides", "_images", "downloads"}
    return sorted(p for p in site.rglob("*.html") if not skip & set(p.relative_to(site).parts))


def audit_site(browser, site: Path) -> dict[str, list[dict]]:
    """axe on every page of ``site`` in light and dark mode: ``{"page (mode)": violations}``."""
    found = {}
    for mode in ("light", "dark"):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme=mode)
        ctx.set_default_timeout(TIMEOUT)
        page = ctx.new_page()
        for path in site_pages(site):
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            page.evaluate(f"() => document.documentElement.dataset.theme = '{mode}'")
            _wait_for_maths(page)
            place = f"{path.relative_to(site).as_posix()} ({mode})"
            found[place] = axe(page)
            _progress(place, found[place])
        ctx.close()
    return found


def _wait_for_maths(page) -> None:
    page.wait_for_function(
        "() => !window.MathJax || !MathJax.startup || !MathJax.startup.promise || "
        "(MathJax.startup.promise.then(() => window.__mjdone = true), window.__mjdone === true)",
        timeout=TIMEOUT,
    )


def audit_deck(browser, deck: Path) -> dict[str, list[dict]]:
    """axe on a reveal.js deck: as presented (first slide, controls, slide number), then every
    slide at once in reveal's print layout, where all slides are laid out and visible."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(TIMEOUT)
    page = ctx.new_page()
    found = {}
    for view, query in (("presented", ""), ("all slides", "?print-pdf")):
        page.goto(deck.as_uri() + query)
        page.wait_for_function("() => window.Reveal && Reveal.isReady()")
        _wait_for_maths(page)
        place = f"{deck.name.split('.')[0]} ({view})"
        found[place] = axe(page)
        _progress(place, found[place])
    ctx.close()
    return found


def _progress(place: str, violations: list[dict]) -> None:
    print(place, dict(by_impact(violations)), file=sys.stderr, flush=True)


def table(results: dict[str, list[dict]]) -> str:
    lines = [f"{'place':60} " + " ".join(f"{k:>9}" for k in IMPACTS)]
    total: Counter = Counter()
    for place, violations in results.items():
        counts = by_impact(violations)
        total += counts
        lines.append(f"{place:60} " + " ".join(f"{counts[k]:>9}" for k in IMPACTS))
    lines.append(f"{'TOTAL':60} " + " ".join(f"{total[k]:>9}" for k in IMPACTS))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    site = Path(argv[0]) if argv else None
    decks = Path(argv[1]) if len(argv) > 1 else (site / "slides" if site else None)
    results: dict[str, list[dict]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if site:
            results.update(audit_site(browser, site))
        for deck in sorted(decks.glob("*.slides.html")) if decks else []:
            results.update(audit_deck(browser, deck))
        browser.close()
    print(table(results))
    rules = Counter(
        f"{v['impact']:9} {v['id']}" for violations in results.values() for v in violations
    )
    print("\nrules (places where each fails):")
    for rule, n in sorted(rules.items()):
        print(f"  {rule}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
