"""The API's blueprints, in the order they appear in the OpenAPI document."""

from fundsvc.api import Blueprint


def blueprints() -> list[Blueprint]:
    from fundsvc.allocation.views import blp as rounds
    from fundsvc.audit.views import blp as audit
    from fundsvc.auth.views import blp as users
    from fundsvc.bank.notification_views import blp as bank_notifications
    from fundsvc.bank.statement_views import blp as statements
    from fundsvc.bank.views import blp as pledges
    from fundsvc.documents.ceremony_views import blp as ceremony
    from fundsvc.documents.list_views import blp as lists
    from fundsvc.documents.views import blp as documents
    from fundsvc.donations.views import blp as donations
    from fundsvc.health import blp as health
    from fundsvc.jobs.views import blp as jobs
    from fundsvc.ledger.books_views import blp as books
    from fundsvc.ledger.movement_views import blp as movements
    from fundsvc.ledger.movement_views import in_kind_blp as in_kind
    from fundsvc.ledger.views import blp as funds
    from fundsvc.organisation.views import blp as organisation
    from fundsvc.reports.views import blp as reports
    from fundsvc.students.views import blp as nominations
    from fundsvc.units.views import blp as units

    return [
        health,
        units,
        books,
        funds,
        donations,
        movements,
        in_kind,
        pledges,
        statements,
        bank_notifications,
        nominations,
        rounds,
        documents,
        ceremony,
        lists,
        jobs,
        reports,
        users,
        organisation,
        audit,
    ]
