"""A sending anchor's main SEP-31 flow, written with the independent Python stellar-sdk.

Usage: sa_flow.py BASE_URL HOST CLIENT_SECRET

Reads the anchor's stellar.toml, authenticates with SEP-10 (stellar-sdk's challenge
reader), registers a sender and a receiver with SEP-12, reads SEP-31 /info, creates a
transaction and reads it back. Prints {"id", "status", "stellar_memo", ...} as JSON and
exits non-zero on any deviation from the specs' expected responses.
"""

import json
import sys

import requests
from sep10_login import login, path_of


def main() -> None:
    base, host, secret = sys.argv[1:4]
    toml, auth = login(base, host, secret)
    kyc_path, sep31_path = path_of(toml["KYC_SERVER"]), path_of(toml["DIRECT_PAYMENT_SERVER"])

    info = requests.get(f"{base}{sep31_path}/info", headers=auth, timeout=10).json()
    srt = info["receive"]["SRT"]
    sender_type = next(iter(srt["sep12"]["sender"]["types"]))
    receiver_type = next(iter(srt["sep12"]["receiver"]["types"]))

    ids = {}
    for kind, ctype, memo, extra in [
        ("sender", sender_type, "py-sender", {}),
        ("receiver", receiver_type, "py-receiver", {"bank_number": "026009593", "bank_account_number": "12345678"}),
    ]:
        needed = requests.get(f"{base}{kyc_path}/customer", params={"type": ctype, "memo": memo}, headers=auth, timeout=10).json()
        assert needed["status"] == "NEEDS_INFO", needed
        body = {"type": ctype, "memo": memo, "first_name": "Ana", "last_name": "Silva", "email_address": "ana@example.com", **extra}
        missing = [f for f, d in needed["fields"].items() if not d.get("optional") and f not in body]
        assert not missing, missing
        res = requests.put(f"{base}{kyc_path}/customer", data=body, headers=auth, timeout=10)
        assert res.status_code in (200, 202), res.text
        ids[kind] = res.json()["id"]
        status = requests.get(f"{base}{kyc_path}/customer", params={"id": ids[kind], "type": ctype}, headers=auth, timeout=10).json()
        assert status["status"] == "ACCEPTED", status

    fields = {name: "026009593" for name in srt["fields"]["transaction"]}
    res = requests.post(
        f"{base}{sep31_path}/transactions",
        json={
            "amount": 100,
            "asset_code": "SRT",
            "funding_method": srt["funding_methods"][0],
            "sender_id": ids["sender"],
            "receiver_id": ids["receiver"],
            "fields": {"transaction": fields},
        },
        headers=auth,
        timeout=10,
    )
    assert res.status_code == 201, res.text
    created = res.json()
    tx = requests.get(f"{base}{sep31_path}/transactions/{created['id']}", headers=auth, timeout=10).json()["transaction"]
    assert tx["stellar_memo"] == created["stellar_memo"], tx
    print(json.dumps({**created, "status": tx["status"], "amount_out": tx["amount_out"], "amount_fee": tx["amount_fee"]}))


if __name__ == "__main__":
    main()
