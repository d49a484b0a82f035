"""A password hasher for generated one-time initial passwords only.

A cadre import creates hundreds of accounts at once. Django's default PBKDF2 (1,000,000
iterations in Django 5.2) takes most of a second per password on a town's PC, so 300 cadres
would keep the upload page waiting for minutes. The iteration count is there to slow down
guessing of passwords people choose; an initial password here is 12 characters drawn by
`secrets` from 55 unambiguous ones (about 69 bits), which no number of iterations makes
weaker or stronger in practice, and it lives only until the first login, where pingan forces
a change (`must_change_password`). So initial passwords are hashed with PBKDF2-SHA256 at a
lower iteration count under their own algorithm name.

The hasher is listed *after* the default in PASSWORD_HASHERS: Django verifies these hashes,
and on the first successful login rehashes the password with the default hasher anyway;
the forced change then replaces it. Nothing else ever uses this hasher.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password


class OneTimePasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_otp"
    iterations = 20_000


def initial_password_hash(password: str) -> str:
    """The hash of a generated initial password: the one-time hasher when the settings list
    it (base settings do), else the default hasher (the test settings use MD5 only)."""
    try:
        return make_password(password, hasher=OneTimePasswordHasher.algorithm)
    except ValueError:
        return make_password(password)
