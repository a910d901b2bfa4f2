"""Background jobs (后台任务): long work off the web request, progress a person can watch.

A page that starts long work (a notice batch, the overdue list as PDF, a ledger import) makes a
`Job` row and puts its id on the queue (`queue.py`: Huey, on a SQLite file by default and on
Redis in production); `flask jobs worker` runs it (`services.run_job`) and keeps the file it
makes under JOB_FILES_DIR. The request answers at once with 303 to /jobs/<id>.
"""

from flask import Blueprint

bp = Blueprint("jobs", __name__)
