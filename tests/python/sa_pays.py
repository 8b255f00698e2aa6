"""A sending anchor paying through an anchor it has never seen before, with the
independent Python stellar-sdk: whatever the anchor's stellar.toml, SEP-31 /info and
SEP-12 ask for is read from them, not assumed.

Usage:
  sa_pays.py create BASE_URL HOST CLIENT_SECRET ASSET_CODE AMOUNT
      SEP-10 login; registers a sender and a receiver with the fields SEP-12 asks for;
      creates a SEP-31 transaction; builds and signs the Stellar payment for it (the
      asset's issuer from stellar.toml's CURRENCIES, destination, memo and amount from
      the transaction). Prints {"id", "status", "envelope"} (the signed envelope, XDR).
  sa_pays.py wait BASE_URL HOST CLIENT_SECRET ID STATUS
      Polls GET /transactions/ID until its status is STATUS (60 s at most). Prints the
      transaction.
"""

import json
import sys
import time

import requests
from sep10_login import login, path_of
from stellar_sdk import Account, Asset, Keypair, TransactionBuilder
from stellar_sdk.memo import HashMemo, IdMemo, TextMemo

# What a test customer answers, by SEP-9 name; anything else asked gets "x".
ANSWERS = {
    "first_name": "Ana",
    "last_name": "Silva",
    "email_address": "ana@example.com",
    "bank_number": "026009593",
    "bank_account_number": "12345678",
    "mobile_number": "+5511999990000",
}


def register(base: str, kyc: str, auth: dict, ctype: str, memo: str) -> str:
    needed = requests.get(f"{base}{kyc}/customer", params={"type": ctype, "memo": memo}, headers=auth, timeout=10).json()
    assert needed["status"] == "NEEDS_INFO", needed
    body = {"type": ctype, "memo": memo}
    for name, spec in needed["fields"].items():
        if not spec.get("optional"):
            body[name] = ANSWERS.get(name, "x")
    res = requests.put(f"{base}{kyc}/customer", data=body, headers=auth, timeout=10)
    assert res.status_code in (200, 202), res.text
    return res.json()["id"]


def create(base: str, host: str, secret: str, code: str, amount: str) -> dict:
    toml, auth = login(base, host, secret)
    kyc, sep31 = path_of(toml["KYC_SERVER"]), path_of(toml["DIRECT_PAYMENT_SERVER"])
    info = requests.get(f"{base}{sep31}/info", headers=auth, timeout=10).json()["receive"][code]
    stamp = str(time.time_ns())
    sender = register(base, kyc, auth, next(iter(info["sep12"]["sender"]["types"])), f"s{stamp}")
    receiver = register(base, kyc, auth, next(iter(info["sep12"]["receiver"]["types"])), f"r{stamp}")
    fields = {name: "x" for name, spec in info.get("fields", {}).get("transaction", {}).items() if not spec.get("optional")}
    body = {"amount": amount, "asset_code": code, "sender_id": sender, "receiver_id": receiver, "fields": {"transaction": fields}}
    if info.get("funding_methods"):
        body["funding_method"] = info["funding_methods"][0]
    res = requests.post(f"{base}{sep31}/transactions", json=body, headers=auth, timeout=10)
    assert res.status_code == 201, res.text
    tx = requests.get(f"{base}{sep31}/transactions/{res.json()['id']}", headers=auth, timeout=10).json()["transaction"]

    currency = next(c for c in toml["CURRENCIES"] if c["code"] == code)
    memo = {"id": lambda m: IdMemo(int(m)), "text": TextMemo, "hash": lambda m: HashMemo(bytes.fromhex(m))}[tx["stellar_memo_type"]](tx["stellar_memo"])
    client = Keypair.from_secret(secret)
    envelope = (
        TransactionBuilder(Account(client.public_key, 1), toml["NETWORK_PASSPHRASE"], base_fee=100)
        .append_payment_op(tx["stellar_account_id"], Asset(code, currency["issuer"]), tx["amount_in"])
        .add_memo(memo)
        .set_timeout(300)
        .build()
    )
    envelope.sign(client)
    return {"id": tx["id"], "status": tx["status"], "envelope": envelope.to_xdr()}


def wait(base: str, host: str, secret: str, tx_id: str, status: str) -> dict:
    toml, auth = login(base, host, secret)
    sep31 = path_of(toml["DIRECT_PAYMENT_SERVER"])
    deadline = time.time() + 60
    while True:
        tx = requests.get(f"{base}{sep31}/transactions/{tx_id}", headers=auth, timeout=10).json()["transaction"]
        if tx["status"] == status or time.time() > deadline:
            return tx
        time.sleep(0.2)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    print(json.dumps(create(*args) if mode == "create" else wait(*args)))
