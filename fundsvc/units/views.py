"""/api/v1/units"""

from fundsvc.api import Blueprint, current_actor
from fundsvc.extensions import db
from fundsvc.units import service
from fundsvc.units.schemas import UnitIn, UnitOut

blp = Blueprint("units", __name__, url_prefix="/api/v1/units", description="The organisation tree")


@blp.get("")
@blp.response(200, UnitOut(many=True))
def list_units():
    """The units of your subtree, in tree order."""
    return service.list_units(db.session, current_actor())


@blp.post("")
@blp.arguments(UnitIn)
@blp.response(201, UnitOut)
def create_unit(data):
    """Create a unit below its parent (admin)."""
    return service.create_unit(db.session, current_actor(), data)
