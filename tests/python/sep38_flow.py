"""A sending anchor's cross-currency SEP-31 flow with a SEP-38 firm quote, written with
the independent Python stellar-sdk (SEP-10) and plain HTTP (SEP-38/12/31).

Usage: sep38_flow.py BASE_URL HOST CLIENT_SECRET

Reads stellar.toml (ANCHOR_QUOTE_SERVER), authenticates with SEP-10, reads SEP-38 /info,
asks for an indicative price and then a firm quote for 1,000 MXN, registers a sender
and a receiver with SEP-12, creates the SEP-31 transaction with the quote_id and
checks that it carries the quote's amounts. Prints the transaction as JSON; exits
non-zero on any deviation from the specs.
"""

import json
import sys
from decimal import Decimal

import requests
from sep10_login import login, path_of


def main() -> None:
    base, host, secret = sys.argv[1:4]
    h = {"Host": host}
    toml, auth = login(base, host, secret)
    kyc_path, sep31_path = path_of(toml["KYC_SERVER"]), path_of(toml["DIRECT_PAYMENT_SERVER"])
    sep38_path = path_of(toml["ANCHOR_QUOTE_SERVER"])

    info = requests.get(f"{base}{sep38_path}/info", headers=h, timeout=10).json()
    stellar = next(a for a in info["assets"] if a["asset"].startswith("stellar:SRT:"))["asset"]
    mxn = next(a for a in info["assets"] if a["asset"] == "iso4217:MXN")
    method = mxn["buy_delivery_methods"][0]["name"]
    assert "MX" in mxn["country_codes"], mxn

    wanted = {"sell_asset": stellar, "buy_asset": "iso4217:MXN", "buy_amount": "1000", "context": "sep31",
              "buy_delivery_method": method, "country_code": "MX"}
    price = requests.get(f"{base}{sep38_path}/price", params=wanted, headers=h, timeout=10).json()
    sell, fee, unit = Decimal(price["sell_amount"]), Decimal(price["fee"]["total"]), Decimal(price["price"])
    # The SEP's identity with the fee in the sell asset.
    assert sell - fee >= unit * Decimal("1000") > sell - fee - Decimal("0.0000001"), price

    res = requests.post(f"{base}{sep38_path}/quote", json=wanted, headers=auth, timeout=10)
    assert res.status_code == 201, res.text
    quote = res.json()
    assert quote["buy_amount"] == "1000" and quote["sell_asset"] == stellar, quote
    assert requests.get(f"{base}{sep38_path}/quote/{quote['id']}", headers=auth, timeout=10).json() == quote

    sep31 = requests.get(f"{base}{sep31_path}/info", headers=auth, timeout=10).json()["receive"]["SRT"]
    assert sep31["quotes_supported"] is True, sep31
    ids = {}
    for kind, memo, extra in [("sender", "py38-sender", {}), ("receiver", "py38-receiver", {"bank_number": "026009593", "bank_account_number": "12345678"})]:
        ctype = next(iter(sep31["sep12"][kind]["types"]))
        body = {"type": ctype, "memo": memo, "first_name": "Ana", "last_name": "Silva", "email_address": "ana@example.com", **extra}
        res = requests.put(f"{base}{kyc_path}/customer", data=body, headers=auth, timeout=10)
        assert res.status_code in (200, 202), res.text
        ids[kind] = res.json()["id"]

    res = requests.post(
        f"{base}{sep31_path}/transactions",
        json={
            "amount": quote["sell_amount"],
            "asset_code": "SRT",
            "quote_id": quote["id"],
            "destination_asset": "iso4217:MXN",
            "funding_method": sep31["funding_methods"][0],
            "sender_id": ids["sender"],
            "receiver_id": ids["receiver"],
            "fields": {"transaction": {name: "026009593" for name in sep31["fields"]["transaction"]}},
        },
        headers=auth,
        timeout=10,
    )
    assert res.status_code == 201, res.text
    created = res.json()
    tx = requests.get(f"{base}{sep31_path}/transactions/{created['id']}", headers=auth, timeout=10).json()["transaction"]
    assert tx["quote_id"] == quote["id"], tx
    assert tx["amount_in"] == quote["sell_amount"] and tx["amount_out"] == "1000", tx
    assert tx["amount_out_asset"] == "iso4217:MXN" and tx["fee_details"]["total"] == quote["fee"]["total"], tx
    print(json.dumps({"quote": quote, "transaction": tx}))


if __name__ == "__main__":
    main()
