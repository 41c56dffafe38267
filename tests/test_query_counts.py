"""Pages that list every company load them in a fixed number of queries, not one or
two per company (a 950-company fair took 953 queries for the outputs page, 1,905 for
the link slips and 962 for the rooms page)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler.db import recorded_statements
from tests.published_fair import published_fair
from web.database import get_engine


def counted(app: Flask):  # type: ignore[no-untyped-def]
    """The SQL statements the app's engine runs inside the block."""
    return recorded_statements(get_engine(app))


@pytest.mark.parametrize(
    "path", ["schedule/outputs", "access/slips", "rooms"], ids=["outputs", "slips", "rooms"]
)
def test_company_lists_take_a_fixed_number_of_queries(
    app: Flask, client: FlaskClient, db_session: Session, logged_in, path: str
) -> None:
    fair = published_fair(db_session, buyers=6, suppliers=30)  # 36 companies
    client.get(f"/events/{fair.id}/{path}")  # warm-up (the session's own look-ups)
    with counted(app) as statements:
        response = client.get(f"/events/{fair.id}/{path}")
    assert response.status_code == 200
    assert len(statements) <= 20, len(statements)
