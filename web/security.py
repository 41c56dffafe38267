"""Response headers, cookies and proxies: what every deployment needs and nobody configures.

- Pages may not be framed by other sites (``X-Frame-Options`` and CSP
  ``frame-ancestors``): one-click organizer actions (approve, re-issue, publish) must not
  be clickjacked. Browsers are told not to guess content types, and never to send a
  page's address to another site (``Referrer-Policy: same-origin``): participants'
  addresses carry their secret links.
- Behind a reverse proxy or load balancer (scaled out), ``PROXY_COUNT`` = the number of
  proxies in front of the app makes the client's own address, scheme and host count
  (Werkzeug's ProxyFix). Without it every request seems to come from the proxy, and
  rate limits would count the whole venue as one client.
- ``PUBLIC_URL`` (``https://fair.example.jp``) is where participants reach the site.
  Links that leave it (e-mails, QR codes on printed sheets, calendar subscriptions)
  are built on it; without it they take the host of the request that made them, so a
  schedule published from ``http://localhost:5000`` or a venue address would send
  everyone links they cannot open.
- ``SECURE_COOKIES`` marks the session and remember cookies Secure where the site is
  served over HTTPS (the embedded default on a venue network may be plain HTTP).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def check_public_url(value: object) -> str:
    """``PUBLIC_URL`` as ``scheme://host[:port]`` (no trailing slash), or "" when unset."""
    if not value:
        return ""
    text = str(value).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise SystemExit(
            f"PUBLIC_URL must be the site's address as participants reach it, such as "
            f"https://fair.example.jp (scheme and host, no path), not {value!r}"
        )
    return text


def init_app(app: Flask) -> None:
    try:
        proxies = int(app.config.get("PROXY_COUNT") or 0)
    except (TypeError, ValueError):
        raise SystemExit(
            f"PROXY_COUNT must be a whole number (proxies in front of matchfair), "
            f"not {app.config.get('PROXY_COUNT')!r}"
        ) from None
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    app.config["PUBLIC_URL"] = check_public_url(app.config.get("PUBLIC_URL"))
    if app.config.get("SECURE_COOKIES"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
