"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from fundsvc.allocation.models import Award, Round
from fundsvc.audit.models import AuditEvent
from fundsvc.auth.models import ApiToken, ThrottleCounter, User
from fundsvc.bank.models import Pledge
from fundsvc.donations.models import Donation, Donor, DonorNameWord, IdempotencyRecord, Receipt, ReceiptBook
from fundsvc.ledger.models import (
    Fund,
    InKindEntry,
    LedgerEntry,
    MoneyAccount,
    Movement,
    MovementCategory,
    Period,
    Reservation,
)
from fundsvc.reports.models import PublicStatement  # noqa: F401
from fundsvc.students.models import Nomination, Student
from fundsvc.units.models import Unit

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Award",
    "Donation",
    "Donor",
    "DonorNameWord",
    "Fund",
    "IdempotencyRecord",
    "InKindEntry",
    "LedgerEntry",
    "MoneyAccount",
    "Movement",
    "MovementCategory",
    "Nomination",
    "Period",
    "Pledge",
    "Receipt",
    "ReceiptBook",
    "Reservation",
    "Round",
    "Student",
    "ThrottleCounter",
    "Unit",
    "User",
]
