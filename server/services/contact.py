"""Who a newcomer can turn to when Lotse cannot help: the Welcome Center of a region."""

from __future__ import annotations

from functools import lru_cache

from knowledge.model import load_knowledge


@lru_cache(maxsize=64)
def contact_line(region_id: str | None) -> str:
    """One line with name, phone, e-mail and web of the region's Welcome Center (falls back to NRW)."""
    regions = load_knowledge().regions
    region = regions.get(region_id or "") or regions.get("nrw")
    if region is None or region.welcome_center is None:
        return "https://www.kommunale-integrationszentren-nrw.de"
    wc = region.welcome_center
    parts = [wc.name]
    for value in (wc.address, wc.phone, wc.email, wc.web):
        if value:
            parts.append(value)
    return ", ".join(parts)
