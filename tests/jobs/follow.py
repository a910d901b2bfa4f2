"""Following a request that submits a job (JOBS_IMMEDIATE: it ran inside the request) to the
job's outcome and its file, as the job page would."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


def job_status(client: FlaskClient, response: Any) -> dict[str, Any]:
    """The JSON of the job a response sent the person to (303 to /jobs/<id>)."""
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert location.startswith("/jobs/"), location
    return client.get(location, headers={"Accept": "application/json"}).json


def job_file(client: FlaskClient, response: Any) -> Any:
    """The file the job made, downloaded from its job page's link."""
    status = job_status(client, response)
    assert status["state"] == "done", status
    assert status["result"].endswith("/file"), status
    download = client.get(status["result"])
    assert download.status_code == 200, download.status_code
    return download
