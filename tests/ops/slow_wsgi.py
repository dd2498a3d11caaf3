"""The service as `wsgi:app` serves it, with the slow endpoints of tests/ops/test_request_limit.py (this test
app's only): `gunicorn tests.ops.slow_wsgi:app`."""

from tests.ops.test_request_limit import add_slow_endpoint
from wsgi import app

add_slow_endpoint(app)
