"""The audit log reads in the user's language: every record type and every column it can show
has a label (the Chinese UI showed Disclosure, period_start, withdrawal_reason...)."""

from resettle.audit.services import _ALWAYS_SKIP
from resettle.db import Base
from resettle.i18n import ENTITY_LABELS, FIELD_LABELS, field_label


def test_every_record_type_and_column_has_a_label(app):
    missing = []
    for mapper in Base.registry.mappers:
        name = mapper.class_.__name__
        if name == "AuditEvent":
            continue
        if name not in ENTITY_LABELS:
            missing.append(name)
        for column in mapper.columns:
            if column.key not in FIELD_LABELS and column.key not in {"id", *_ALWAYS_SKIP}:
                missing.append(f"{name}.{column.key}")
    assert missing == []


def test_a_column_reads_by_what_it_is_on_that_record(app):
    with app.test_request_context():
        assert str(field_label("FundSource", "name")) == "资金名称"
        assert str(field_label("HouseholdMember", "name")) == "姓名"
        assert str(field_label("FundSource", "kind")) == "类型"
        assert str(field_label("Payment", "kind")) == "款项类型"
        assert str(ENTITY_LABELS["Disclosure"]) == "信息公开"
