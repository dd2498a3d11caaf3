"""/api/v1/units"""

from fundsvc.api import Blueprint, current_actor
from fundsvc.extensions import db
from fundsvc.organisation.service import current_config
from fundsvc.units import reorganisation, service
from fundsvc.units.identity import identity_defaults
from fundsvc.units.schemas import (
    MoveIn,
    RetireIn,
    UnitDetailOut,
    UnitIn,
    UnitMergeIn,
    UnitMergeOut,
    UnitOut,
    UnitPatchIn,
)

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


@blp.post("/merge")
@blp.arguments(UnitMergeIn)
@blp.response(200, UnitMergeOut)
def merge_units(data):
    """Merge units into another on a date (admin): their balances pass by transfer documents dated `on`, their
    books close, their donors and nominations carry over; they accept no new movement afterwards."""
    return reorganisation.merge_units(
        db.session, current_actor(), data["from_"], data["into"], data["on"], data["reason"]
    )


@blp.get("/<code>")
@blp.response(200, UnitDetailOut)
def get_unit(code):
    """One unit: its identity as stored and as printed (inherited values filled in)."""
    return service.unit_detail(db.session, current_actor(), code, identity_defaults(current_config()))


@blp.patch("/<code>")
@blp.arguments(UnitPatchIn)
@blp.response(200, UnitDetailOut)
def update_unit(data, code):
    """Rename a unit or change its identity (admin of the unit or above); issued documents keep theirs."""
    return service.update_unit(db.session, current_actor(), code, data, identity_defaults(current_config()))


@blp.post("/<code>/move")
@blp.arguments(MoveIn)
@blp.response(200, UnitOut)
def move_unit(data, code):
    """Put the unit (with the units below it) under another parent (admin)."""
    return reorganisation.move_unit(db.session, current_actor(), code, data["parent"], data["on"])


@blp.post("/<code>/retire")
@blp.arguments(RetireIn)
@blp.response(200, UnitOut)
def retire_unit(data, code):
    """Retire a unit holding no money and no active unit below it (admin): it takes no new document."""
    return reorganisation.retire_unit(db.session, current_actor(), code, data["on"], data["reason"])
