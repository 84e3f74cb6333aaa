"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import pytest

from manifesto.extensions import db
from manifesto.search.schema import include_object


# PostgreSQL's GIN index over an expression cannot be reflected; it is left out on purpose.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True,
                                                         "include_object": include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models changed without a migration: {diff}"
