"""Catalog reads: what a terminal's district may accept, and where it routes."""


def items(client, headers, **params):
    response = client.get("/api/v1/catalog/items", headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_fumin_window_sees_wuhua_fumin_items_with_routes(client, terminal):
    page = items(client, terminal("FM-01"), limit=200)
    by_code = {i["basic_code"]: i for i in page["items"]}
    card = by_code["000112001000"]
    assert card["name"] == "社会保障卡申领"
    assert {r["code"] for r in card["routes_to"]} == {"530102", "530124"}
    assert card["needs_fact"] == "insured_district"
    assert card["materials"][0]["name"] == "居民身份证"


def test_anning_window_does_not_see_items_outside_its_agreement(client, terminal):
    codes = {i["basic_code"] for i in items(client, terminal("AN-01"), limit=200)["items"]}
    assert "000112001000" in codes
    assert "000114001000" not in codes  # 户口迁移: only in 五华–富民
    assert (
        client.get("/api/v1/catalog/items/000114001000", headers=terminal("AN-01")).status_code
        == 404
    )


def test_search_by_name_and_code_prefix(client, terminal):
    fm = terminal("FM-01")
    assert {i["name"] for i in items(client, fm, q="社会保障卡")["items"]} == {
        "社会保障卡申领",
        "社会保障卡挂失与补换",
    }
    assert all(i["basic_code"].startswith("000113") for i in items(client, fm, q="000113")["items"])
    assert items(client, fm, q="%")["items"] == []


def test_cursor_pagination_walks_every_item_once(client, terminal):
    fm, seen, cursor = terminal("FM-01"), [], None
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        page = items(client, fm, **params)
        seen += [i["basic_code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == len(items(client, fm, limit=200)["items"])


def test_bad_cursor_and_limit_are_problems(client, terminal):
    fm = terminal("FM-01")
    for params in ({"cursor": "!!!"}, {"limit": 0}, {"limit": "many"}):
        response = client.get("/api/v1/catalog/items", headers=fm, query_string=params)
        assert response.status_code in (400, 422)
        assert response.content_type == "application/problem+json"


def test_districts_list(client, terminal):
    districts = client.get("/api/v1/districts", headers=terminal("FM-01")).get_json()
    assert len(districts) == 14
    assert {"code": "530124", "name": "富民县", "kind": "county"} in districts
