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
import toml_parser
from stellar_sdk import Keypair, TransactionEnvelope
from stellar_sdk.sep.stellar_web_authentication import read_challenge_transaction


def main() -> None:
    base, host, secret = sys.argv[1:4]
    client = Keypair.from_secret(secret)
    h = {"Host": host}

    toml = toml_parser.parse(requests.get(f"{base}/.well-known/stellar.toml", headers=h, timeout=10).text)
    passphrase, server_key = toml["NETWORK_PASSPHRASE"], toml["SIGNING_KEY"]
    # The toml names public URLs; this client reaches them through BASE_URL.
    auth_path = "/" + toml["WEB_AUTH_ENDPOINT"].split("/", 3)[3]
    kyc_path = "/" + toml["KYC_SERVER"].split("/", 3)[3]
    sep31_path = "/" + toml["DIRECT_PAYMENT_SERVER"].split("/", 3)[3]

    xdr = requests.get(f"{base}{auth_path}", params={"account": client.public_key}, headers=h, timeout=10).json()["transaction"]
    read_challenge_transaction(xdr, server_key, host, host, passphrase)
    envelope = TransactionEnvelope.from_xdr(xdr, passphrase)
    envelope.sign(client)
    res = requests.post(f"{base}{auth_path}", json={"transaction": envelope.to_xdr()}, headers=h, timeout=10)
    res.raise_for_status()
    auth = {**h, "Authorization": f"Bearer {res.json()['token']}"}

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
