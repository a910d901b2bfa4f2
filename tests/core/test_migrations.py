"""The Alembic revisions and the models describe the same schema, and they go down and up again."""

import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from resettle.extensions import db
from tests.conftest import make_test_app
from tests.dbs import fresh_database


@pytest.mark.no_transaction
# SQLite's reflection cannot read lower(username); test_usernames_differ_in_more_than_case
# checks that index on both databases.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)
def test_upgrade_matches_models_and_downgrade_upgrade_round_trips(tmp_path):
    app = make_test_app(fresh_database("migrations", tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"

        downgrade(revision="base")
        with db.engine.connect() as conn:
            remaining = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        assert remaining == set()

        upgrade()
        with db.engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert {"households", "audit_events", "units", "case_steps"} <= tables
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []
        # the audit guard came back with the second upgrade (the chaining is its first row), and
        # a row without a place in the chain is refused
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit_events"))
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO audit_events (occurred_at, actor, action, entity_type, changes)"
                    " VALUES (CURRENT_TIMESTAMP, 'x', 'insert', 'User', '{}')"
                )
            )
        db.engine.dispose()


def test_usernames_differ_in_more_than_case(make_user):
    make_user(username="demo-admin")
    with pytest.raises(sa.exc.IntegrityError):
        make_user(username="DEMO-Admin")


def test_foreign_keys_are_enforced(app):
    from resettle.households.models import HouseholdMember

    db.session.add(HouseholdMember(household_id=987654, name="无主", relation="配偶"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()


def test_case_number_is_unique(make_household):
    make_household(case_number="DUP-1")
    with pytest.raises(sa.exc.IntegrityError):
        make_household(case_number="DUP-1")


def test_negative_area_is_refused_by_the_database(make_household):
    from decimal import Decimal

    with pytest.raises(sa.exc.IntegrityError):
        make_household(legal_area=Decimal("-1.00"))


def test_unit_status_must_match_allocation(make_household):
    from decimal import Decimal

    from resettle.sites.models import Building, ResettlementSite, Unit, UnitStatus

    site = ResettlementSite(name="测试苑")
    building = Building(site=site, name="1#楼", floors=5)
    unit = Unit(
        building=building,
        entrance="1",
        floor=1,
        number="101",
        area=Decimal("60.00"),
        status=UnitStatus.ALLOCATED,
    )
    db.session.add_all([site, building, unit])
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()


@pytest.mark.no_transaction
def test_audit_rows_written_before_masking_are_masked_by_the_upgrade(tmp_path):
    """Revision 0014 replaces full ID numbers and phones in older audit rows by the masked
    value and keyed hash that new rows hold, puts the append-only guard back, and says so."""
    from resettle.privacy import audit_pii_value

    app = make_test_app(fresh_database("mask_audit", tmp_path))
    with app.app_context():
        upgrade(revision="0013")
        legacy = {
            "head_id_number": [None, "11010519491231002X"],
            "phone": ["13800001111", "13912345678"],
            "house_address": [None, "解放路1号"],
        }
        with db.engine.begin() as conn:
            for entity_type, changes in (
                ("Household", legacy),
                ("HouseholdMember", {"id_number": ["110101199003074477", None]}),
                ("User", {"username": [None, "phone"]}),  # "phone" only as a value
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO audit_events (occurred_at, actor, action, entity_type,"
                        " changes) VALUES (CURRENT_TIMESTAMP, 'x', 'update', :t, :c)"
                    ),
                    {"t": entity_type, "c": json.dumps(changes)},
                )
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT entity_type, action, changes FROM audit_events ORDER BY id")
            ).all()
        stored = {r.entity_type: r.changes for r in rows}
        stored = {k: json.loads(v) if isinstance(v, str) else v for k, v in stored.items()}
        assert stored["Household"] == {
            "head_id_number": [None, audit_pii_value("head_id_number", "11010519491231002X")],
            "phone": [
                audit_pii_value("phone", "13800001111"),
                audit_pii_value("phone", "13912345678"),
            ],
            "house_address": [None, "解放路1号"],
        }
        assert stored["HouseholdMember"]["id_number"][0]["masked"] == "110101********4477"
        assert stored["User"] == {"username": [None, "phone"]}
        masking = [r for r in rows if r.action == "audit_pii_masked"]
        assert len(masking) == 1
        changes = masking[0].changes
        assert (json.loads(changes) if isinstance(changes, str) else changes) == {"rows": [None, 2]}
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_events SET actor = 'y'"))
        db.engine.dispose()
