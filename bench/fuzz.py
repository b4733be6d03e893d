"""`make fuzz`: schemathesis against /api/v1/openapi.json with valid credentials; 0 server errors.

    .venv/bin/python -m bench.fuzz [--max-examples 30] [--workers 2]

Starts the API (gunicorn) on a fresh database under var/fuzz/ and runs schemathesis over every
operation three times: as a window's terminal (富民), as a district clerk (五华) and as the
city-wide admin, so each operation is also tried by someone allowed to use it. Besides no 5xx,
each answer must be one the document declares: its status, its media type, its headers and its
body's schema (problems included). Exit status 1 on any finding. How long: about 6 minutes.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import redis

from bench.reads import staff_token
from bench.stack import running_stack, say

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# No server error, and every answer conforms to the contract the document declares.
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30, help="per operation and phase")
    # One worker: with more, hypothesis (inside schemathesis) sometimes fails on its own while
    # describing a strategy ("AST constructor recursion depth mismatch"), which is no finding.
    parser.add_argument("--workers", default="1")
    args = parser.parse_args()
    began = time.monotonic()
    results = {}
    with running_stack("fuzz") as stack:
        stack.recreate_database()
        # A fresh broker state too: the last run's failed logins (schemathesis tries many)
        # would still hold the login throttle shut for the users this run signs in as.
        redis.Redis.from_url(stack.redis.url).flushall()
        creds = stack.migrate_and_seed()
        api = stack.start_api()
        passwords = {s["username"]: s["password"] for s in creds["staff"]}
        secrets = {s["username"]: s.get("totp_secret") for s in creds["staff"]}
        identities = {
            "terminal FM-01": next(
                t["api_key"] for t in creds["terminals"] if t["center"] == "FM-01"
            ),
            "clerk wh-clerk": staff_token(api, "wh-clerk", passwords["wh-clerk"]),
            "admin": staff_token(api, "admin", passwords["admin"], secrets["admin"]),
        }
        for who, bearer in identities.items():
            say(f"schemathesis as {who}")
            run = subprocess.run(
                [
                    str(SCHEMATHESIS), "run", f"{api}/api/v1/openapi.json",
                    "--header", f"Authorization: Bearer {bearer}",
                    "--checks", CHECKS,
                    "--max-examples", str(args.max_examples),
                    "--workers", args.workers,
                    "--suppress-health-check", "all",
                    "--seed", "10",
                ],
                env=stack.env,
                cwd=stack.var_dir,  # schemathesis keeps its cache in .schemathesis/ here
            )  # fmt: skip
            results[who] = run.returncode
    took = time.monotonic() - began
    for who, code in results.items():
        outcome = "conforms, no server error" if code == 0 else f"FAILED (exit {code})"
        print(f"| {who} | {outcome} |")
    print(f"fuzzing took {took / 60:.1f} min")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
