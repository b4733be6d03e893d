"""Catalog reads: what a terminal's district may accept, and where it routes."""

from service.pagination import encode_cursor


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


def names(client, headers, **params) -> list[str]:
    return [i["name"] for i in items(client, headers, limit=200, **params)["items"]]


def test_search_by_words_of_the_name_and_aliases(client, terminal):
    fm = terminal("FM-01")
    found = names(client, fm, q="社会保障卡")
    assert found[0] == "社会保障卡申领"  # the shortest name that starts with the words
    assert len(found) > 5 and all("社会保障卡" in n for n in found)
    both = items(client, fm, q="公积金 提取", limit=200)["items"]  # 公积金 is an alias's word
    assert both and all("提取" in i["name"] and "住房公积金" in i["name"] for i in both)
    assert names(client, fm, q="异地就医备案")[0] == "异地就医备案"  # exact beats prefix


def test_search_by_basic_code(client, terminal):
    fm = terminal("FM-01")
    assert names(client, fm, q="000114001000") == ["户口迁移（投靠类）"]
    prefix = items(client, fm, q="000113", limit=200)["items"]
    assert len(prefix) > 10 and all(i["basic_code"].startswith("000113") for i in prefix)
    assert items(client, fm, q="%")["items"] == []


def test_search_by_pinyin_initials_and_full_pinyin(client, terminal):
    fm = terminal("FM-01")
    by_initials = names(client, fm, q="sbk")
    assert by_initials[0] == "社会保障卡申领"
    assert all(n.startswith("社会保障卡") for n in by_initials)
    assert set(names(client, fm, q="shebaoka")) == set(by_initials)
    assert set(names(client, fm, q="shehuibaozhangka")) == set(by_initials)
    assert names(client, fm, q="SBK") == by_initials
    assert "居民身份证换领" in names(client, fm, q="sfz")
    assert all("低保" in n or "最低生活保障" in n for n in names(client, fm, q="dibao"))


def test_search_filters_by_department_and_district(client, terminal):
    fm, an = terminal("FM-01"), terminal("AN-01")
    medical = items(client, fm, q="备案", department="医疗保障局", limit=200)["items"]
    assert medical and {i["department"] for i in medical} == {"医疗保障局"}
    assert names(client, fm, q="户口")  # 五华–富民 covers household registration
    assert names(client, an, q="户口") == []  # 西山–安宁 does not
    departments = client.get("/api/v1/catalog/departments", headers=fm).get_json()
    assert sum(d["items"] for d in departments) == 320
    assert departments[0] == {"name": "人力资源和社会保障局", "items": 70}


def test_ranked_search_pages_walk_every_match_once(client, terminal):
    fm, seen, cursor = terminal("FM-01"), [], None
    while True:
        page = items(client, fm, q="sb", limit=4, **({"cursor": cursor} if cursor else {}))
        seen += [i["basic_code"] for i in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    everything = [i["basic_code"] for i in items(client, fm, q="sb", limit=200)["items"]]
    assert seen == everything and len(everything) > 4


def test_item_shows_its_data_elements_and_versions(client, terminal):
    item = client.get("/api/v1/catalog/items/000112001000", headers=terminal("WH-01")).get_json()
    assert item["item_type_zh"] and item["exercise_level_zh"] == "县级"
    assert (
        item["delivery_modes"] == ["window", "mail"] and "异地代收代办" in item["handling_modes_zh"]
    )
    photo = next(m for m in item["materials"] if m["code"] == "M04")
    assert photo["deferrable"] is True and photo["necessity_zh"] == "必要"
    assert item["versions"][0]["version"] == 1 and any(v["in_force"] for v in item["versions"])


def test_cursor_pagination_walks_every_item_once(client, terminal):
    fm, seen, cursor = terminal("FM-01"), [], None
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        page = items(client, fm, **params)
        seen += [i["basic_code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 320 and seen == sorted(seen)


def test_bad_cursor_and_limit_are_problems(client, terminal):
    fm = terminal("FM-01")
    tampered = encode_cursor(["a", "b", 1])  # a cursor of the wrong shape
    booleans = encode_cursor([1, True, "000112001000"])
    # A cursor or a text that cannot be read is a bad request; a limit out of range, a field.
    cases = (
        ({"cursor": "!!!"}, 400),
        ({"cursor": tampered}, 400),
        ({"cursor": booleans}, 400),
        ({"limit": "many"}, 422),
        ({"limit": 0}, 422),
        ({"q": "社保\x00"}, 400),
        ({"department": "\x00"}, 400),
    )
    for params, status in cases:
        response = client.get("/api/v1/catalog/items", headers=fm, query_string=params)
        assert response.status_code == status, params
        assert response.content_type == "application/problem+json"


def test_nul_characters_anywhere_are_a_problem_not_a_crash(client, terminal):
    fm = terminal("FM-01")
    in_path = client.get("/api/v1/catalog/items/0001%00", headers=fm)
    assert in_path.status_code == 400
    assert in_path.content_type == "application/problem+json"
    in_body = client.post(
        "/api/v1/applications",
        data='{"note": "a\\u0000"}',
        headers=fm,
        content_type="application/json",
    )
    assert in_body.status_code == 422
    assert in_body.content_type == "application/problem+json"
    assert in_body.get_json()["errors"][0]["field"] == "note"
    assert client.get("/api/v1/catalog/items/not-a-code", headers=fm).status_code == 404


def test_districts_list(client, terminal):
    districts = client.get("/api/v1/districts", headers=terminal("FM-01")).get_json()
    assert len(districts) == 14
    assert {"code": "530124", "name": "富民县", "kind": "county"} in districts
