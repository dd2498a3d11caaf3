"""The round's page reads the allocation's summary and one page of its decisions (fundsvc.allocation.decisions);
what it shows is what current_result makes of the whole stored result, the reference: before approval, and after
an award was cancelled (and a waitlisted pupil promoted) and another paid, page by page, with each pupil's reasons
redacted for a role that does not see personal data."""

from __future__ import annotations

from fundsvc.allocation.decisions import result_page
from fundsvc.allocation.models import Round
from fundsvc.allocation.service import current_result
from fundsvc.extensions import db
from fundsvc.privacy import redact_allocation
from tests.rounds.test_worked_example import example_round  # noqa: F401  (a fixture)

PAGE = 7


def _assert_pages_are_the_reference(round_id: int) -> None:
    db.session.expire_all()
    round_ = db.session.get(Round, round_id)
    reference = current_result(db.session, round_)
    tabs = [tab for tab in ("awarded", "waitlisted", "ineligible", "cancelled") if tab in reference]
    for personal, expected in ((True, reference), (False, redact_allocation(reference))):
        for tab in tabs:
            entries, number = [], 1
            while True:
                page = result_page(db.session, round_, tab, number, PAGE, personal=personal)
                assert page.counts == {t: len(reference[t]) for t in tabs}
                assert (page.allocated, page.remaining) == (reference["allocated"], reference["remaining"])
                entries += page.entries
                if number >= page.pages:
                    break
                number += 1
            assert entries == expected[tab], (tab, personal)
    past = result_page(db.session, round_, "awarded", 10**6, PAGE, personal=True)
    assert past.number == past.pages  # past the end: the last page


def test_the_page_shows_what_the_stored_result_holds(app, admin, make_api, example_round):  # noqa: F811
    round_id = example_round["id"]
    assert result_page(db.session, db.session.get(Round, round_id), "awarded", 1, PAGE, personal=True) is None
    allocated = admin.post(f"/api/v1/rounds/{round_id}/allocate").json
    assert allocated["waitlisted"] and allocated["ineligible"]
    _assert_pages_are_the_reference(round_id)
    assert admin.post(f"/api/v1/rounds/{round_id}/allocate").status_code == 200  # again: replaced, not added
    _assert_pages_are_the_reference(round_id)

    assert admin.post(f"/api/v1/rounds/{round_id}/approve").status_code == 200
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards").json
    committee = make_api(app, "committee", "ST")
    victim = max(awards, key=lambda a: (a["amount"], -a["rank"]))
    cancelled = committee.post(f"/api/v1/awards/{victim['id']}/cancel", {"reason": "Gia đình chuyển đi nơi khác"})
    assert cancelled.status_code == 200 and cancelled.json["promoted"]
    treasurer = make_api(app, "treasurer", "ST")
    paid = next(a for a in awards if a["id"] != victim["id"])
    body = {"paid_on": "2024-11-20", "received_by": "Mẹ em"}
    assert treasurer.post(f"/api/v1/awards/{paid['id']}/disburse", body).status_code == 200
    _assert_pages_are_the_reference(round_id)
    reference = current_result(db.session, db.session.get(Round, round_id))
    assert reference["cancelled"] and any(e["promoted"] for e in reference["awarded"])
