from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class TestArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 with tiny costs, only for the test suite (hundreds of users are created)."""

    time_cost = 1
    memory_cost = 256
    parallelism = 1
