"""Withdrawing a nomination (rút hồ sơ): it stays on file with its reason, no round considers it again, and an award
it holds goes the way of a cancellation.

An approved, unpaid award is cancelled through the allocation's own path (``allocation.service.cancel_in_transaction``:
its hold released, the waitlisted pupils the money now fits promoted), all in the withdrawal's one transaction; a paid
award cannot be undone, so a nomination holding one is not withdrawn (409). Separate from ``students.service`` because
it reaches into the rounds, which themselves read the nominations through that module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from fundsvc.allocation.models import Award
from fundsvc.allocation.service import cancel_in_transaction
from fundsvc.auth.service import Actor
from fundsvc.errors import Conflict
from fundsvc.students.models import Nomination
from fundsvc.students.service import changing, held_awards


@dataclass
class Withdrawal:
    nomination: Nomination
    cancelled: list[Award] = field(default_factory=list)  # the awards the withdrawal cancelled
    promoted: list[Award] = field(default_factory=list)  # the awards given in their place


def _refuse_what_cannot_be_cancelled(actor: Actor, awards: list[Award]) -> None:
    for award in awards:
        round_ = award.round
        if award.status == "paid":
            raise Conflict(f"Học bổng của đợt xét “{round_.name}” đã chi cho em, không rút hồ sơ được")
        if not actor.sees(round_.unit):
            raise Conflict(
                f"Hồ sơ đang nhận học bổng của đợt xét “{round_.name}” do {round_.unit.name} xét; cần hội đồng "
                f"của {round_.unit.name} rút hồ sơ"
            )


def withdraw_nomination(session: Session, actor: Actor, nomination_id: int, reason: str) -> Withdrawal:
    """Withdraw an active nomination of the actor's scope with a reason (audited): its unpaid awards cancelled and the
    waitlist promoted as a cancellation does; 409 when already withdrawn or when an award of it was paid."""
    with changing(
        session, actor, nomination_id, "nomination.withdraw", "Hồ sơ đã rút trước đó (already withdrawn)"
    ) as nomination:
        awards = held_awards(session, nomination.id, lock=True)
        _refuse_what_cannot_be_cancelled(actor, awards)
        nomination.status = "withdrawn"
        nomination.withdrawal_reason = reason
        session.flush()  # withdrawn before the promotions, which pass over nominations no longer active
        outcome = Withdrawal(nomination, cancelled=awards)
        for award in awards:
            outcome.promoted += cancel_in_transaction(session, actor, award, f"Rút hồ sơ: {reason}"[:500])
    return outcome
