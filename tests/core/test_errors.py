"""Error pages are Chinese, carry a request id, and never show a traceback."""

import re

from flask import abort, url_for

from resettle.auth.policy import public
from tests.conftest import make_test_app


def test_404_is_chinese_with_request_id(client):
    response = client.get("/no-such-page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "页面不存在" in page
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id) and request_id in page


def test_500_shows_request_id_and_no_traceback(database_url):
    app = make_test_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    @public
    def boom():
        raise RuntimeError("internal detail that must not leak")

    response = app.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "系统出错" in page and response.headers["X-Request-ID"] in page
    assert "Traceback" not in page and "internal detail" not in page


def test_403_page_is_chinese(database_url):
    app = make_test_app(database_url)

    @app.route("/forbidden")
    @public
    def forbidden():
        abort(403)

    page = app.test_client().get("/forbidden").get_data(as_text=True)
    assert "无权访问" in page


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_forms_without_csrf_token_are_refused_in_chinese(database_url):
    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_every_form_but_the_residents_lookup_needs_a_csrf_token(database_url):
    """Staff forms refuse a post without the token; the public lookup alone is exempt (it
    changes nothing a forged request could abuse, see public/forms.py), and stays limited."""
    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    exempt = set()
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{arg: 1 for arg in rule.arguments})
        response = client.post(url, data={"anything": "x"})
        if response.status_code != 400 or "表单已过期" not in response.get_data(as_text=True):
            exempt.add(rule.endpoint)
    assert exempt == {"public.status"}
