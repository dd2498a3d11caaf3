"""/api/v1/organisation/settings (admins of every unit change them; every admin reads them)."""

from flask import current_app
from marshmallow import fields

from fundsvc.api import Blueprint, current_actor
from fundsvc.auth.service import require_role
from fundsvc.extensions import db
from fundsvc.organisation import service
from fundsvc.schemas import StrictSchema

blp = Blueprint(
    "organisation", __name__, url_prefix="/api/v1/organisation", description="Organisation settings (admins)"
)


class SettingOut(StrictSchema):
    key = fields.String()
    value = fields.Raw()
    default = fields.Raw()
    changed = fields.Boolean()


# Any of the settings by configuration key; null or "" goes back to the environment's value. The values are checked
# by the service (fundsvc.organisation.service.Setting.parse), the one definition of each setting's rule.
SettingsIn = StrictSchema.from_dict({key: fields.Raw(allow_none=True) for key in service.SETTINGS}, name="SettingsIn")


@blp.get("/settings")
@blp.response(200, SettingOut(many=True))
def get_settings():
    """Each setting: its value in force, the environment's default, whether it was changed here."""
    require_role(current_actor())
    return service.settings_view(db.session, current_app.config)


@blp.patch("/settings")
@blp.arguments(SettingsIn)
@blp.response(200, SettingOut(many=True))
def update_settings(data):
    """Change settings (admins of every unit); documents already issued keep what they printed."""
    return service.update_settings(db.session, current_actor(), data, current_app.config)
