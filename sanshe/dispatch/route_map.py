"""A route map drawn locally as inline SVG: places projected from latitude/longitude onto the
page (no tiles, no CDN — government intranets have no internet). Plain data in, shapes out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# One colour per caregiver, distinguishable and readable on white.
PALETTE = ("#1f6feb", "#d9480f", "#2b8a3e", "#9c36b5", "#e8590c", "#0b7285", "#c2255c", "#5c940d",
           "#364fc7", "#862e9c")


@dataclass(slots=True)
class MapPlace:
    lat: float
    lon: float
    label: str  # the number shown on the marker ("1", "2", …) or ""
    title: str  # tooltip: who/what/when


@dataclass(slots=True)
class MapRoute:
    name: str
    start: MapPlace
    stops: list[MapPlace]


@dataclass(slots=True)
class DrawnPlace:
    x: float
    y: float
    label: str
    title: str


@dataclass(slots=True)
class DrawnRoute:
    name: str
    colour: str
    start: DrawnPlace
    stops: list[DrawnPlace]
    path: str  # SVG polyline points: start → stops → start


@dataclass(slots=True)
class RouteMap:
    width: int
    height: int
    routes: list[DrawnRoute]
    loose: list[DrawnPlace] = field(default_factory=list)  # unplanned orders
    scale_label: str = ""
    scale_px: float = 0

    @property
    def scale_y(self) -> int:
        return self.height - 16


def draw_map(routes: list[MapRoute], loose: list[MapPlace] | None = None, *, width: int = 760,
             height: int = 460, pad: int = 34) -> RouteMap:
    """Fit every place into the box, keeping distances true in both directions (cos latitude)."""
    loose = loose or []
    places = [p for r in routes for p in (r.start, *r.stops)] + loose
    if not places:
        return RouteMap(width=width, height=height, routes=[])
    lat0 = sum(p.lat for p in places) / len(places)
    k = math.cos(math.radians(lat0))
    xs = [p.lon * k for p in places]
    ys = [p.lat for p in places]
    span = max(max(xs) - min(xs), (max(ys) - min(ys)) * (width - 2 * pad) / (height - 2 * pad), 1e-6)
    unit = (width - 2 * pad) / span  # pixels per degree of latitude
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def at(p: MapPlace) -> DrawnPlace:
        return DrawnPlace(x=round(width / 2 + (p.lon * k - cx) * unit, 1),
                          y=round(height / 2 - (p.lat - cy) * unit, 1), label=p.label, title=p.title)

    drawn = []
    for n, route in enumerate(routes):
        start = at(route.start)
        stops = [at(s) for s in route.stops]
        path = " ".join(f"{p.x},{p.y}" for p in (start, *stops, start))
        drawn.append(DrawnRoute(name=route.name, colour=PALETTE[n % len(PALETTE)], start=start, stops=stops,
                                path=path))
    # A scale bar of a round number of metres, about a fifth of the width.
    metres_per_px = 111_320 / unit
    target = metres_per_px * width / 5
    nice = next((m for m in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000) if m >= target),
                100_000)
    label = f"{nice // 1000} 公里" if nice >= 1000 else f"{nice} 米"
    return RouteMap(width=width, height=height, routes=drawn, loose=[at(p) for p in loose], scale_label=label,
                    scale_px=round(nice / metres_per_px, 1))
