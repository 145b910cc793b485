"""What the role-by-page browser test checks on every page, as scripts run in the page:
elements overflowing their box (a map's panes excepted: the map's box cuts them on
purpose), and axe-core's WCAG 2.1 A/AA rules (axe-core vendored in
tests/portal/vendor, injected by Playwright's evaluate, so the pages' CSP stays on)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from overt.testing.access import totp_now

PASSWORD = "correct horse battery staple"
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# An element is clipped when a container that hides its overflow (hidden or clip, not a
# scrolling one) cuts it, or when a control's own content is wider than the control and
# hidden. The page itself must not scroll sideways. Visually hidden text is meant to be.
OVERFLOW = """() => {
  const bad = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) bad.push(`page scrolls sideways: ${doc.scrollWidth}px in ${doc.clientWidth}px`);
  // A map's panes and drawing layers are meant to be cut by the map's box (Leaflet).
  const hiddenOnPurpose = (el) => el.closest('.visually-hidden, .skip-link, [hidden], template, .leaflet-pane');
  for (const el of document.body.querySelectorAll('*')) {
    if (hiddenOnPurpose(el)) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ps = getComputedStyle(p);
      const x = ps.overflowX, y = ps.overflowY;
      if (x === 'visible' && y === 'visible') continue;
      if (['auto', 'scroll'].includes(x) || ['auto', 'scroll'].includes(y)) break;
      const pr = p.getBoundingClientRect();
      if (r.left < pr.left - 1 || r.right > pr.right + 1 || r.top < pr.top - 1 || r.bottom > pr.bottom + 1)
        bad.push(name(el) + ' is clipped by ' + name(p));
      break;
    }
    if (el.matches('button, a, label, input[type=submit], summary, .button-primary') &&
        style.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
      bad.push(name(el) + ' cuts its own content');
  }
  return bad;
}"""


def overflow(page: Any) -> list[str]:
    found: list[str] = page.evaluate(OVERFLOW)
    return found


def axe_violations(page: Any) -> list[str]:
    start_axe(page)
    return axe_result(page)


def start_axe(page: Any) -> None:
    """Start axe-core's run on the page and return at once; axe_result waits for it (so
    that several pages' runs can go at the same time)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    page.evaluate(
        "(tags) => { window.__axeRun = window.axe.run(document,"
        " {runOnly: {type: 'tag', values: tags}}); }",
        WCAG_TAGS,
    )


def axe_result(page: Any) -> list[str]:
    """The violations found by the run start_axe began on this page."""
    result = page.evaluate("async () => await window.__axeRun")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
    ]


def sign_in(page, base: str, username: str, device, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/login/totp/" in page.url:
        page.get_by_role("textbox", name="Code").fill(totp_now(device))
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/home/")


def watch(page: Any) -> list[str]:
    """A list that fills with the page's console errors, script errors, failed requests
    and HTTP error answers (cleared by the caller before each page)."""
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error":
            errors.append(f"console {message.type}: {message.text}")

    def response(answer: Any) -> None:
        if answer.status >= 400:
            errors.append(f"HTTP {answer.status}: {answer.url}")

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} {r.failure}"))
    page.on("response", response)
    return errors
