"""Links into Bling's web app (not the API), for staff to open what an admin page shows.

Bling's product editor opens at `https://www.bling.com.br/produtos.php#edit/<id>` (the form
the web app itself uses in its product list, and that integrations link to). It needs no
setting: the web app's address does not depend on the API base URL.
"""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.translation import gettext as _

BLING_WEB_URL = "https://www.bling.com.br"


def bling_product_url(product_id: int | None) -> str:
    """The product's page in Bling's web app; "" without an id."""
    if not product_id:
        return ""
    return f"{BLING_WEB_URL}/produtos.php#edit/{int(product_id)}"


def bling_product_html(*, product_id: int | None, name: str = "", code: str = "") -> str:
    """A product as staff know it: its name (opening it in Bling, in a new tab) and its code;
    the Bling id when no name was read."""
    label = name or (f"#{product_id}" if product_id else "")
    if not label:
        return "—"
    url = bling_product_url(product_id)
    title = _("Abrir no Bling (id %(id)s)") % {"id": product_id}
    html = (
        format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer" title="{}">{}</a>',
            url,
            title,
            label,
        )
        if url
        else format_html("{}", label)
    )
    if code:
        html = format_html('{} <span class="quiet">{}</span>', html, code)
    return html
