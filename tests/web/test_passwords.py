"""Passwords: Argon2id, older hashes replaced at login, the same cost for unknown users (issue 17, findings 7, 8)."""

from __future__ import annotations

import time

from werkzeug.security import generate_password_hash

from fundsvc.auth.models import User
from fundsvc.auth.passwords import verify_password
from fundsvc.auth.service import authenticate_password
from fundsvc.extensions import db as _db
from tests.web.conftest import PASSWORD


def test_new_passwords_are_argon2id(app, tree, make_user):
    make_user("lan", "treasurer", "ST-TP-P2")
    stored = _db.session.scalar(_db.select(User.password_hash).where(User.username == "lan"))
    assert stored.startswith("$argon2id$")


def test_an_scrypt_hash_is_replaced_at_the_next_login(app, tree, make_user):
    make_user("lan", "treasurer", "ST-TP-P2")
    user = _db.session.scalar(_db.select(User).where(User.username == "lan"))
    user.password_hash = generate_password_hash(PASSWORD, method="scrypt")
    _db.session.commit()
    assert authenticate_password(_db.session, "lan", "wrong") is None
    assert authenticate_password(_db.session, "lan", PASSWORD) is not None
    stored = _db.session.scalar(_db.select(User.password_hash).where(User.username == "lan"))
    assert stored.startswith("$argon2id$")
    assert authenticate_password(_db.session, "lan", PASSWORD) is not None


def test_unknown_users_cost_what_known_users_cost(app, tree, make_user):
    make_user("lan", "treasurer", "ST-TP-P2")

    def best_of(username: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            assert authenticate_password(_db.session, username, "wrong password") is None
            times.append(time.perf_counter() - started)
        return min(times)

    best_of("nobody")  # the dummy hash is made on first use
    known, unknown = best_of("lan"), best_of("nobody")
    assert unknown >= 0.5 * known, (known, unknown)
    assert verify_password(None, "x") == (False, False)
