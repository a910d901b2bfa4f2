import logging
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from flask import current_app

from resettle.dbroles import app_role, grant_app_role, migration_database_url

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


# Migrations run as the tables' owner (MIGRATION_DATABASE_URL) when it is set, else on the
# application's own database URL (resettle/dbroles.py, README.md "Two database roles").
MIGRATION_URL = migration_database_url(current_app.config)


def get_engine():
    if MIGRATION_URL:
        return sa.create_engine(MIGRATION_URL, poolclass=sa.pool.NullPool)
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    if MIGRATION_URL:
        return sa.make_url(MIGRATION_URL).render_as_string(hide_password=False).replace("%", "%%")
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()
    try:
        with connectable.connect() as connection:
            _run_online(connection, conf_args)
    finally:
        if MIGRATION_URL:
            connectable.dispose()


def _run_online(connection, conf_args):
    """Migrate on `connection`; then, after upgrade, downgrade or stamp, grant the
    application's role what it needs (in a transaction of its own: the schema stays migrated
    when the grant is refused, and the next `flask db upgrade` grants again)."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite rebuilds tables to alter them ("batch" mode); with foreign keys on, dropping
        # the old copy of a referenced table would fail. Checked again after the migration.
        # (on the raw connection: a PRAGMA inside a transaction is silently ignored)
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)

    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        raw = connection.connection.driver_connection
        problems = raw.execute("PRAGMA foreign_key_check").fetchall()
        raw.execute("PRAGMA foreign_keys=ON")
        if problems:
            raise RuntimeError(f"foreign key violations after migration: {problems[:5]}")
    if connection.dialect.name != "postgresql" or context.get_revision_argument() is None:
        return
    role = app_role(current_app.config)
    if role is not None:
        with connection.begin():
            grant_app_role(connection, role)
        logger.info("Granted the application's role %s its privileges.", role)
    elif current_app.config.get("ENV_NAME") == "production":
        logger.warning(
            "The application connects as the owner of the tables (MIGRATION_DATABASE_URL "
            "is unset or names the same user as DATABASE_URL): it could drop the audit "
            'trail\'s append-only triggers. See README.md, "Two database roles".'
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
