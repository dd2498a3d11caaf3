"""/jobs/<id>: a big document being rendered by the job queue, with its progress bar and, once done, its link."""

from __future__ import annotations

from flask import g, render_template, url_for
from flask_babel import lazy_gettext as _l

from fundsvc.extensions import db
from fundsvc.jobs import service
from fundsvc.web.auth import roles_required
from fundsvc.web.views import bp

KIND_LABELS = {
    "award-list": _l("Danh sách khen thưởng (PDF)"),
    "signature-sheet": _l("Danh sách ký nhận (PDF)"),
    "certificates": _l("Giấy chứng nhận (PDF)"),
    "cash-book.pdf": _l("Sổ quỹ tiền mặt (PDF)"),
    "cash-book.xlsx": _l("Sổ quỹ tiền mặt (Excel)"),
    "bank-book.pdf": _l("Sổ tiền gửi ngân hàng (PDF)"),
    "bank-book.xlsx": _l("Sổ tiền gửi ngân hàng (Excel)"),
    "fund-book.pdf": _l("Sổ quỹ (PDF)"),
    "fund-book.xlsx": _l("Sổ quỹ (Excel)"),
    "receipts.pdf": _l("Phiếu thu trong kỳ (PDF)"),
}
# The lists taken away (fundsvc.documents.lists), in either format, with donors' contact details or without.
LIST_LABELS = {
    "donations": _l("Danh sách khoản thu"),
    "donors": _l("Danh sách nhà hảo tâm"),
    "nominations": _l("Danh sách hồ sơ đề cử"),
    "awards": _l("Danh sách suất học bổng"),
}
FORMAT_LABELS = {"xlsx": "Excel", "csv": "CSV"}
STATE_LABELS = {
    "queued": _l("Đang chờ đến lượt dựng"),
    "running": _l("Đang dựng tài liệu"),
    "done": _l("Đã dựng xong"),
    "failed": _l("Không dựng được tài liệu"),
}


def kind_label(kind: str) -> str:
    """What a job makes, as its page titles it: "Sổ quỹ (PDF)", "Danh sách khoản thu (Excel)"."""
    if kind in KIND_LABELS:
        return str(KIND_LABELS[kind])
    name, _, ext = kind.partition(".")
    name = name.removesuffix("-contact")
    if name in LIST_LABELS and ext in FORMAT_LABELS:
        return f"{LIST_LABELS[name]} ({FORMAT_LABELS[ext]})"
    return kind


@bp.get("/jobs/<int:job_id>")
@roles_required("treasurer", "committee", "viewer")
def job_page(job_id):
    """The job's state and progress; the page follows it (web.js asks the API; without scripts it reloads)."""
    job = service.visible_job(db.session, g.actor, job_id)
    return render_template(
        "web/job.html",
        job=job,
        percent=service.percent(job),
        title=kind_label(job.kind),
        states=STATE_LABELS,
        status_url=url_for("jobs.job_status", job_id=job.id),
        download_url=url_for("jobs.job_download", job_id=job.id),
    )
