"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from fundsvc.allocation.models import Award, Round, RoundDecision
from fundsvc.audit.models import AuditEvent
from fundsvc.auth.models import ApiToken, ThrottleCounter, User
from fundsvc.bank.models import Pledge
from fundsvc.donations.models import Donation, Donor, DonorNameWord, IdempotencyRecord, Receipt, ReceiptBook
from fundsvc.jobs.models import Job
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
from fundsvc.organisation.models import OrganisationSetting
from fundsvc.reports.models import PublicStatement  # noqa: F401
from fundsvc.students.models import Nomination, Student
from fundsvc.units.models import Unit, UnitMove

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
    "Job",
    "LedgerEntry",
    "MoneyAccount",
    "Movement",
    "MovementCategory",
    "Nomination",
    "OrganisationSetting",
    "Period",
    "Pledge",
    "Receipt",
    "ReceiptBook",
    "Reservation",
    "Round",
    "RoundDecision",
    "Student",
    "ThrottleCounter",
    "Unit",
    "UnitMove",
    "User",
]
