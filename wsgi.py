"""gunicorn entry point: `gunicorn wsgi:app`."""

import sys

from fundsvc import create_app

# Threaded workers (gunicorn -k gthread): a thread writing a gift's group (fundsvc.group_commit) gives the GIL up
# at every SQLite call and must get it back from threads busy with other requests. At the default 5 ms switch
# interval it waits up to that long each time, with the database's write lock held; 0.5 ms keeps the lock short.
sys.setswitchinterval(0.0005)

app = create_app()
