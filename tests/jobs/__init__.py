"""Helpers for tests of pages that start a job (in-process tests run the job at once)."""

from __future__ import annotations

from typing import Any

JSON = {"Accept": "application/json"}


def job_status(client: Any, response: Any) -> dict[str, Any]:
    """The JSON of the job a response sent the person to (303 to /jobs/<id>)."""
    assert response.status_code == 303, (
        response.status_code,
        response.get_data(as_text=True)[:500],
    )
    location = response.headers["Location"]
    assert "/jobs/" in location, location
    return client.get(location, headers=JSON).json


def job_file(client: Any, response: Any) -> Any:
    """The file the job made, downloaded from its job page's link."""
    status = job_status(client, response)
    assert status["state"] == "done", status
    assert status["result"].endswith("/file"), status
    download = client.get(status["result"])
    assert download.status_code == 200, download.status_code
    return download
