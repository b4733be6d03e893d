"""Fixtures the page tests share."""

import pytest

from tests.helpers import application, submit


@pytest.fixture
def fumin_case(client, terminal):
    """A 富民 window's application for someone insured in 五华 (via the API)."""
    response = submit(client, terminal("FM-01"), application())
    assert response.status_code == 201, response.get_json()
    return response.get_json()["case_no"]
