"""A 100 KB query gets the JSON error shape wherever it is refused: by Plume, by gunicorn
(request line over ``limit_request_line``, headers over its limits), by nginx (over its
header buffers)."""
from __future__ import annotations

import requests
import urllib3

from tests.deploy.test_gunicorn import serve
from tests.deploy.test_nginx import nginx_site, prefix  # noqa: F401 - fixtures

LONG_QUERY = "/api/v1/search?q=" + "a" * 100_000


def test_gunicorn_refuses_a_100_kb_query_in_the_json_shape(database_url):
    with serve(database_url) as plume:
        response = requests.get(plume.url + LONG_QUERY, timeout=10)
        assert response.status_code == 414
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == {"error": "adresse_trop_longue",
                                   "message": "L'adresse de la requête est trop longue."}
        # Headers over gunicorn's field limit: refused by gunicorn too, in the same shape.
        response = requests.get(plume.url + "/readyz", headers={"X-Long": "a" * 10_000}, timeout=10)
        assert response.status_code == 431
        assert response.json()["error"] == "entetes_trop_volumineux"
        # An ordinary query still goes through on the same worker.
        assert requests.get(plume.url + "/readyz", timeout=10).status_code == 200


def test_nginx_refuses_a_query_over_its_buffers_in_the_json_shape(nginx_site):  # noqa: F811
    # 9 KB: over nginx's 8 KB buffer, yet sent whole before nginx answers and closes (a
    # longer one is cut by the close while the client still writes, as with any server).
    urllib3.disable_warnings()
    response = requests.get(nginx_site["https"] + "/api/v1/search?q=" + "a" * 9_000,
                            verify=False, timeout=10)
    assert response.status_code == 414
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "adresse_trop_longue"
