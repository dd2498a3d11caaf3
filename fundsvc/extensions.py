"""Unbound extensions; the app factory binds them."""

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from fundsvc.db import Base

# expire_on_commit=False: services return the objects they committed and views serialise them
# afterwards without a second round trip to the database.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
api = Api()
# The web UI's forms; the bearer-token API under /api/ is exempt (fundsvc.web.register_web).
csrf = CSRFProtect()
