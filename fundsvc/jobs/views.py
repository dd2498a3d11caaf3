"""/api/v1/jobs/{id} (a big document's job: state, progress, its file when done) and the documents' 202 answer."""

from __future__ import annotations

from flask import Response, jsonify, redirect, request, send_file, url_for
from marshmallow import Schema, fields

from fundsvc.api import Blueprint, current_actor
from fundsvc.extensions import db
from fundsvc.jobs import service
from fundsvc.jobs.models import Job

blp = Blueprint("jobs", __name__, url_prefix="/api/v1", description="Big documents rendered by the job queue")


class ProgressOut(Schema):
    done = fields.Integer(metadata={"description": "steps done (chunks rendered and merged, receipts, …)"})
    total = fields.Integer(metadata={"description": "steps in all; 0 while the renderer has not told"})
    percent = fields.Integer()


class JobOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "award-list, signature-sheet, certificates, cash-book.pdf, …"})
    state = fields.String(metadata={"description": "queued, running, done or failed"})
    progress = fields.Nested(ProgressOut)
    rows = fields.Integer(metadata={"description": "rows of the document (pupils, book lines, receipts)"})
    filename = fields.String()
    media_type = fields.String()
    attempts = fields.Integer()
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    url = fields.String(metadata={"description": "this job"})
    download = fields.String(allow_none=True, metadata={"description": "the document, once done"})


# The documents' other answer, for their OpenAPI entries: `@blp.alt_response(202, **AS_A_JOB)`.
AS_A_JOB = {
    "schema": JobOut,
    "description": "The document is big (more rows than FUNDSVC_JOB_THRESHOLD): it is rendered by a job, whose "
    "URL is in Location; GET it until its state is done, then its `download`.",
    "success": True,
}


def job_out(job: Job) -> dict:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "progress": {"done": job.progress_done, "total": job.progress_total, "percent": service.percent(job)},
        "rows": job.rows,
        "filename": job.filename,
        "media_type": job.media_type,
        "attempts": job.attempts,
        "error": job.error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "url": url_for("jobs.job_status", job_id=job.id),
        "download": url_for("jobs.job_download", job_id=job.id) if job.state == "done" else None,
    }


def deferred(kind: str, params: dict) -> Response | None:
    """The answer for a document big enough to be a job: 202 with the job (its URL in Location); a browser that
    followed a link of the web UI is sent to the job's page. None when the document is small enough to serve now.
    """
    job = service.submit(db.session, current_actor(), kind, params)
    if job is None:
        return None
    if "Authorization" not in request.headers:  # the web UI's login: show the progress page
        return redirect(url_for("web.job_page", job_id=job.id), 303)
    response = jsonify(JobOut().dump(job_out(job)))
    response.status_code = 202
    response.headers["Location"] = url_for("jobs.job_status", job_id=job.id)
    response.headers["Retry-After"] = "2"
    return response


@blp.get("/jobs/<int:job_id>")
@blp.response(200, JobOut)
def job_status(job_id):
    """A job's state and progress, and the link to its document once done; 404 for a job outside what you may
    read (another subtree, or pupils' personal data your role does not print)."""
    return job_out(service.visible_job(db.session, current_actor(), job_id))


@blp.get("/jobs/<int:job_id>/file")
@blp.response(200, content_type="application/octet-stream")
def job_download(job_id):
    """The job's document (409 while it is not done)."""
    job = service.job_file(db.session, current_actor(), job_id)
    return send_file(
        job.result_path,
        mimetype=job.media_type,
        download_name=job.filename,
        as_attachment=job.media_type != "application/pdf",
        max_age=0,
    )
