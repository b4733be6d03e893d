"""Scans go with the application, are checked by the receiver, and are read by those involved
only (logged). Deliveries run in a real worker process."""

import io
from datetime import timedelta

from tests.helpers import application, delivery_error, read_case, status_of, submit
from tests.processes import wait_for

PDF = b"%PDF-1.7\n" + b"scan of an ID card " * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"photo" * 100


def stage(client, headers, data, name="scan.pdf"):
    return client.post(
        "/api/v1/uploads",
        headers=headers,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def with_scans(**files) -> dict:
    """An application whose materials name their staged scans: with_scans(M01=[id], ...)."""
    body = application()
    for material in body["materials"]:
        material["files"] = files.get(material["code"], [])
    return body


def received(engine, case_no):
    wait_for(lambda: status_of(engine, case_no) == "received", 30, f"{case_no} received")


def upload(client, headers, case_no, material, data, name="scan.pdf"):
    return client.post(
        f"/api/v1/cases/{case_no}/files",
        headers=headers,
        data={"material_code": material, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_scans_travel_with_the_case_and_every_download_is_logged(
    worker, client, terminal, staff, engine
):
    window = terminal("FM-01")
    pdf = stage(client, window, PDF)
    assert pdf.status_code == 201, pdf.get_json()
    png = stage(client, window, PNG, "photo.png").get_json()
    assert png["content_type"] == "image/png"
    created = submit(client, window, with_scans(M01=[pdf.get_json()["id"]], M04=[png["id"]]))
    assert created.status_code == 201, created.get_json()
    case_no = created.get_json()["case_no"]
    received(engine, case_no)  # the receiver checked every checksum

    clerk = staff("clerk", "530102")
    listed = client.get(f"/api/v1/cases/{case_no}/files", headers=clerk).get_json()
    assert [f["material_code"] for f in listed] == ["M01", "M04"]
    got = client.get(f"/api/v1/cases/{case_no}/files/{listed[0]['id']}", headers=clerk)
    assert got.status_code == 200 and got.data == PDF
    events = read_case(client, clerk, case_no)["timeline"]
    assert events[0]["data"]["scans"] == 2
    logged = [e for e in events if e["type"] == "file_downloaded"]
    assert len(logged) == 1 and logged[0]["data"]["file_id"] == listed[0]["id"]
    again = submit(client, window, with_scans(M01=[pdf.get_json()["id"]]))
    assert again.status_code == 422  # a scan goes with one application only


def test_a_corrupted_file_makes_delivery_retry_not_succeed(
    worker, client, terminal, engine, settings
):
    from service.materials.store import FileStore

    window = terminal("FM-01")
    data = PDF + b"corrupted once"
    staged = stage(client, window, data).get_json()
    path = FileStore(settings.files_dir).path(staged["sha256"])
    path.write_bytes(data[:-1] + b"!")  # the store's copy goes bad before delivery
    case_no = submit(client, window, with_scans(M01=[staged["id"]])).get_json()["case_no"]
    assert "SHA-256" in wait_for(lambda: delivery_error(engine, case_no), 20, "a failed delivery")
    assert status_of(engine, case_no) == "submitted"
    path.write_bytes(data)  # repaired: a retry succeeds
    received(engine, case_no)


def test_staged_scans_no_application_names_are_swept(client, terminal, migrated, settings):
    from service.materials.service import sweep_orphans
    from service.materials.store import FileStore

    window = terminal("FM-01")
    staged = stage(client, window, PDF + b"never used").get_json()
    store = FileStore(settings.files_dir)
    assert store.exists(staged["sha256"])
    with migrated.sessionmaker() as session:
        assert sweep_orphans(session, store, older_than=timedelta(0)) >= 1
    assert not store.exists(staged["sha256"])
    unknown = submit(client, window, with_scans(M01=[staged["id"]]))
    assert unknown.status_code == 422


def test_wrong_type_or_size_is_a_clear_problem(client, terminal):
    window = terminal("FM-01")
    fake = stage(client, window, b"GIF89a not a pdf at all", "scan.pdf")
    assert fake.status_code == 422 and fake.get_json()["type"].endswith("unsupported-type")
    assert "PDF" in fake.get_json()["detail_zh"]
    huge = stage(client, window, b"%PDF-" + b"0" * 300_000)
    assert huge.status_code == 413 and huge.get_json()["errors"][0]["field"] == "file"
    case_no = submit(client, window, application()).get_json()["case_no"]
    late = upload(client, window, case_no, "M01", PDF)
    assert late.status_code == 409  # after intake, scans come only with a supplement


def test_an_upload_cut_off_midway_leaves_nothing_behind(app, terminal, engine, settings):
    """A window's connection drops halfway through a scan: no row, no stored or spooled file."""
    import socket
    import threading

    from werkzeug.serving import make_server

    from ops.embedded import free_port
    from tests.helpers import count

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    files_dir = settings.files_dir
    before = (count(engine, "case_files"), sorted(files_dir.rglob("*")))
    boundary = "tongban-cut-off"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=scan.pdf\r\n"
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + PDF
    auth = terminal("FM-01")["Authorization"]
    try:
        with socket.create_connection(server.server_address, timeout=5) as conn:
            conn.sendall(
                (
                    "POST /api/v1/uploads HTTP/1.1\r\nHost: localhost\r\n"
                    f"Authorization: {auth}\r\n"
                    f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                    f"Content-Length: {len(head) + 100_000}\r\n\r\n"
                ).encode()
                + head
            )
            conn.shutdown(socket.SHUT_WR)  # the rest never comes
            answer = conn.recv(4096)
    finally:
        server.shutdown()
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]  # authenticated, then cut off
    assert (count(engine, "case_files"), sorted(files_dir.rglob("*"))) == before


def test_only_those_involved_can_read_a_file(client, terminal, staff):
    window = terminal("FM-01")
    staged = stage(client, window, PDF).get_json()
    case_no = submit(client, window, with_scans(M01=[staged["id"]])).get_json()["case_no"]
    file_id = staged["id"]
    path = f"/api/v1/cases/{case_no}/files/{file_id}"
    assert client.get(path, headers=terminal("XS-01")).status_code == 404  # another district
    assert client.get(path, headers=terminal("FM-YD")).status_code == 404  # another center
    assert client.get(path, headers=staff("clerk", "530112")).status_code == 404
    assert client.get(path, headers=staff("clerk", "530124")).status_code == 200
    other = upload(client, terminal("XS-01"), case_no, "M01", PDF)
    assert other.status_code == 404


def test_originals_by_mail_are_tracked_until_they_arrive(worker, client, terminal, staff, engine):
    window = terminal("FM-01")
    case_no = submit(client, window, application()).get_json()["case_no"]
    received(engine, case_no)
    needed = read_case(client, window, case_no)["originals"]
    assert [m["code"] for m in needed["needed"]] == ["M01", "M03"]  # paper originals only
    posting = {"materials": ["M01", "M03"], "carrier": "中国邮政", "tracking_no": "1180012345678"}
    wrong = client.post(
        f"/api/v1/cases/{case_no}/originals",
        headers=window,
        json={**posting, "materials": ["M04"], "mailed_on": "2026-01-01"},
    )
    assert wrong.status_code == 422  # the photo is electronic: no original to post
    posted = client.post(
        f"/api/v1/cases/{case_no}/originals",
        headers=window,
        json={**posting, "mailed_on": read_case(client, window, case_no)["created_at"][:10]},
    )
    assert posted.status_code == 201, posted.get_json()
    shown = read_case(client, window, case_no)["originals"]
    assert shown["not_posted"] == [] and shown["mailings"][0]["in_transit"] is True
    mailing = posted.get_json()["id"]
    arrived_path = f"/api/v1/cases/{case_no}/originals/{mailing}/arrived"
    assert client.post(arrived_path, headers=staff("clerk", "530124")).status_code == 409
    assert client.post(arrived_path, headers=staff("clerk", "530102")).status_code == 200
    assert read_case(client, window, case_no)["originals"]["mailings"][0]["in_transit"] is False


def test_retention_removes_files_and_says_so(
    worker, client, terminal, staff, engine, migrated, settings
):
    from datetime import timedelta

    import time_machine

    from service.cases.steps import UnitOfWork
    from service.clock import now_utc
    from service.materials.service import remove_expired
    from service.materials.store import FileStore
    from service.outbox.policy import DeliveryPolicy

    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    body = application()
    body["applicant"]["name"] = "王五"
    case_no = submit(client, window, body).get_json()["case_no"]
    received(engine, case_no)
    version = read_case(client, clerk, case_no)["version"]
    asked = client.post(
        f"/api/v1/cases/{case_no}/request-supplement",
        headers=clerk,
        json={"version": version, "materials": [{"code": "M01", "problem": "复印件不清晰"}]},
    )
    assert asked.status_code == 200
    data = PDF + b"retention " + case_no.encode()
    supplement_scan = upload(client, window, case_no, "M01", data).get_json()
    assert supplement_scan["purpose"] == "supplement"
    sha = supplement_scan["sha256"]
    version = read_case(client, window, case_no)["version"]
    handed = client.post(
        f"/api/v1/cases/{case_no}/supplement",
        headers=window,
        json={"version": version, "materials": [{"code": "M01"}]},
    )
    assert handed.status_code == 200
    received(engine, case_no)  # the supplement's scan checked on the way
    for step, extra, who in (
        ("accept", {}, clerk),
        ("complete", {"outcome": "approved", "document_no": "五社保〔2026〕7号"}, clerk),
        ("deliver-result", {"method": "window"}, window),
    ):
        version = read_case(client, who, case_no)["version"]
        assert (
            client.post(
                f"/api/v1/cases/{case_no}/{step}", headers=who, json={"version": version, **extra}
            ).status_code
            == 200
        )
    with time_machine.travel(now_utc() - timedelta(days=400)):  # closed long ago
        version = read_case(client, window, case_no)["version"]
        closed = client.post(
            f"/api/v1/cases/{case_no}/close", headers=window, json={"version": version}
        )
        assert closed.status_code == 200
    store = FileStore(settings.files_dir)
    assert store.exists(sha)
    with migrated.sessionmaker() as session:
        uow = UnitOfWork(session, DeliveryPolicy.from_settings(settings))
        assert remove_expired(uow, store, retention_days=180) >= 1
    assert not store.exists(sha)
    assert client.get(f"/api/v1/cases/{case_no}/files", headers=clerk).get_json()[0]["id"]
    events = [e["type"] for e in read_case(client, window, case_no)["timeline"]]
    assert events[-1] == "files_removed"
    file_id = client.get(f"/api/v1/cases/{case_no}/files", headers=clerk).get_json()[0]["id"]
    assert client.get(f"/api/v1/cases/{case_no}/files/{file_id}", headers=clerk).status_code == 404


def test_nul_in_a_multipart_field_or_file_name_is_a_400_problem(client, terminal):
    # PostgreSQL text cannot hold NUL: refused up front as for JSON, never a 500 from the insert.
    window = terminal("FM-01")
    case_no = submit(client, window, application()).get_json()["case_no"]
    for response in (
        stage(client, window, PNG, "scan\x00.png"),
        upload(client, window, case_no, "M01", PNG, "scan\x00.png"),
        upload(client, window, case_no, "M\x0001", PNG),
    ):
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert problem["type"].endswith("validation-error") and problem["detail_zh"]


def test_a_multipart_part_whose_name_cannot_be_read_is_not_a_500(client, terminal):
    # Found by schemathesis: `name="a\"` leaves the part without a name werkzeug can read.
    window = terminal("FM-01")
    case_no = submit(client, window, application()).get_json()["case_no"]
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="a\\"\r\n\r\n{{}}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="material_code"\r\n\r\nM01\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.png"\r\n\r\n'
        ).encode()
        + PNG
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        f"/api/v1/cases/{case_no}/files",
        headers=window,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    # Refused like any unknown field, with the problem naming it, as for a readable name.
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert [e["field"] for e in response.get_json()["errors"]] == ["None"]


def test_a_supplement_names_only_this_cases_own_supplement_scans(
    worker, client, terminal, staff, engine
):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    cases = [submit(client, window, application()).get_json()["case_no"] for _ in range(2)]
    for case_no in cases:
        received(engine, case_no)
        version = read_case(client, clerk, case_no)["version"]
        asked = client.post(
            f"/api/v1/cases/{case_no}/request-supplement",
            headers=clerk,
            json={"version": version, "materials": [{"code": "M01", "problem": "复印件不清晰"}]},
        )
        assert asked.status_code == 200
    mine, theirs = cases
    other_scan = upload(client, window, theirs, "M01", PDF + b"other").get_json()["id"]
    own_scan = upload(client, window, mine, "M01", PDF + b"own").get_json()["id"]

    def supplement(files, code="M01"):
        version = read_case(client, window, mine)["version"]
        return client.post(
            f"/api/v1/cases/{mine}/supplement",
            headers=window,
            json={"version": version, "materials": [{"code": code, "files": files}]},
        )

    refused = supplement([other_scan])
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "materials"
    assert supplement([own_scan, 10**9]).status_code == 422  # one unknown id spoils it
    assert supplement([own_scan]).status_code == 200


def test_no_personal_data_in_clear_in_redis_or_the_file_store(
    worker, client, terminal, settings, engine
):
    """The broker, the throttles and the stored scans, after a case with a scan travelled
    through a real worker: the applicant's name, ID number, phone and address are in none."""
    from tests.helpers import found_in_files, found_in_redis, make_id_number

    window = terminal("FM-01")
    staged = stage(client, window, PDF + b"at rest").get_json()
    body = with_scans(M01=[staged["id"]])
    applicant = {
        "name": "欧阳娜娜",
        "id_number": make_id_number(),
        "phone": "13987654321",
        "address": "云南省昆明市五华区翠湖南路77号",
    }
    body["applicant"] = applicant
    case_no = submit(client, window, body).get_json()["case_no"]
    received(engine, case_no)
    needles = list(applicant.values())
    assert found_in_redis(settings.redis_url, needles) == []
    assert found_in_files(settings.files_dir, needles) == []
