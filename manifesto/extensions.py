"""Flask extensions, created unbound and initialised in the application factory."""

from flask import current_app
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from werkzeug.local import LocalProxy

# Named constraints so that migrations can alter them on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
# The current app's rate limiter: one per app, built by accounts/limits.py (Flask-Limiter keeps its storage
# and settings on the instance, and the factory builds many apps in one process).
limiter: Limiter = LocalProxy(lambda: current_app.extensions["manifesto.limiter"].limiter)  # type: ignore[assignment]
