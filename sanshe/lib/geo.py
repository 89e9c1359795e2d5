"""Distances and travel times from coordinates (WGS-84 degrees), without a road network.

Travel time = straight-line distance × detour factor ÷ the speed of the travel mode. A road
network travel-time matrix, where one is supplied, replaces this estimate (dispatch/routes.py).
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def travel_minutes(distance_metres: float, *, detour_factor: float, speed_kmh: float) -> float:
    """Minutes to cover a straight-line distance on the road at a mode's speed."""
    return distance_metres * detour_factor / (speed_kmh * 1000 / 60)


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a square that contains the circle; for index look-ups."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * max(0.01, math.cos(math.radians(lat)))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
