"""A signed-in person's JSON API client for tests (session cookie and CSRF header)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.functional.people import PASSWORD


@dataclass
class Api:
    """A signed-in person's JSON client: writes carry the session's X-CSRF-Token."""

    client: FlaskClient
    csrf: str

    def get(self, path: str) -> TestResponse:
        return self.client.get(path)

    def post(self, path: str, body: Any = None, **extra: Any) -> TestResponse:
        return self.client.post(path, json=body, headers={"X-CSRF-Token": self.csrf}, **extra)


def json_login(client: FlaskClient, username: str, password: str = PASSWORD) -> TestResponse:
    return client.post("/api/v1/session", json={"username": username, "password": password})


def sign_in(app: Flask, username: str, password: str = PASSWORD) -> Api:
    client = app.test_client()
    response = json_login(client, username, password)
    assert response.status_code == 201, response.get_data(as_text=True)
    return Api(client, response.get_json()["csrf_token"])
