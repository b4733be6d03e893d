"""Every encrypted column in the database, in one list: the writers take their `Field` from
here, and `service/rekey.py` walks the list to re-encrypt and to check that a key is unused.

Rows are identified in the associated data by a natural key known before the row is inserted
(a case's number, a district's code) or, for rows that exist before the value is written, by
their id (a staff user enrolling a second factor). Those keys never change once set.
"""

from service.crypto import Field

CASE_NAME = Field("cases", "applicant_name_enc", "case_no")
CASE_ID_NUMBER = Field("cases", "applicant_id_enc", "case_no", legacy="applicant_id")
CASE_PHONE = Field("cases", "phone_enc", "case_no", legacy="phone")
CASE_ADDRESS = Field("cases", "address_enc", "case_no", legacy="address")
CASE_QUERY_CODE = Field("cases", "query_code_enc", "case_no", legacy="query_code")
TOTP_SECRET = Field("staff_users", "totp_secret_enc", "id", legacy="staff_users.totp_secret")
CONNECTOR_SECRET = Field(
    "district_connectors", "secret_enc", "district_code", legacy="district_secret"
)

FIELDS: tuple[Field, ...] = (
    CASE_NAME,
    CASE_ID_NUMBER,
    CASE_PHONE,
    CASE_ADDRESS,
    CASE_QUERY_CODE,
    TOTP_SECRET,
    CONNECTOR_SECRET,
)
