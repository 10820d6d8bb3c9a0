"""The advisory lease (minsheng.db.advisory): one holder at a time across replicas; a holder that goes frees it."""

from __future__ import annotations

import time

from minsheng.db import Database
from minsheng.db.advisory import AdvisoryLease


def test_one_replica_holds_the_lease_and_another_takes_it_once_it_is_gone(make_database):
    url = make_database("lease")
    first_db, second_db = Database(url), Database(url)
    try:
        first, second = AdvisoryLease(first_db, "sender"), AdvisoryLease(second_db, "sender")
        assert first.hold()
        assert not second.hold()
        assert first.hold()  # still held, checked on its own connection
        assert AdvisoryLease(second_db, "another").hold()  # another name, another lock

        first_db.engine.dispose()  # the holder's connection goes (its process died): the lock goes with it
        first._connection.invalidate()  # noqa: SLF001 - what a dead process's connection amounts to
        # The server frees the lock once it sees the connection gone: a moment, not at once.
        deadline = time.monotonic() + 10
        while not second.hold():
            assert time.monotonic() < deadline, "the lease of a holder whose connection went was never freed"
            time.sleep(0.1)
        assert not first.hold()  # comes back and finds it taken
        second.release()
        assert first.hold()
    finally:
        first_db.dispose()
        second_db.dispose()
