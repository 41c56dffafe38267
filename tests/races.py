"""Jobs started at the same moment on sessions of their own, for the race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker


def race(factory: sessionmaker, jobs: list[Callable[[Session], object]]) -> list[BaseException]:
    """Run each job in a thread with its own session, all released at once by a barrier;
    each commits (or rolls back on an error). The errors raised, in no given order."""
    barrier = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job: Callable[[Session], object]) -> None:
        with factory() as session:
            try:
                barrier.wait(timeout=10)
                job(session)
                session.commit()
            except BaseException as error:
                session.rollback()
                failures.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures
