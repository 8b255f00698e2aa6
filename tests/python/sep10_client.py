"""A sending anchor's SEP-10 client written with the independent Python stellar-sdk.

Usage: sep10_client.py BASE_URL HOST SERVER_ACCOUNT CLIENT_SECRET NETWORK_PASSPHRASE [MEMO]

Fetches a challenge from Mooring, validates it with the SDK's
`read_challenge_transaction` (and, once signed, with the SDK's server-side
`verify_challenge_transaction_signed_by_client_master_key`), signs it and exchanges
it for a token. Prints {"token": ..., "client_account_id": ..., "memo": ...}.
Exits non-zero on any failure. EXPECT_DOMAIN: the home and web_auth domain the
challenge must carry (default: HOST as sent).
"""

import json
import os
import sys

import requests
from stellar_sdk import Keypair, TransactionEnvelope
from stellar_sdk.sep.stellar_web_authentication import (
    read_challenge_transaction,
    verify_challenge_transaction_signed_by_client_master_key,
)


def main() -> None:
    base, host, server_account, client_secret, passphrase = sys.argv[1:6]
    memo = sys.argv[6] if len(sys.argv) > 6 else None
    client = Keypair.from_secret(client_secret)
    params = {"account": client.public_key}
    if memo:
        params["memo"] = memo
    headers = {"Host": host}
    expected = os.environ.get("EXPECT_DOMAIN", host)

    res = requests.get(f"{base}/auth", params=params, headers=headers, timeout=10)
    res.raise_for_status()
    body = res.json()
    assert body["network_passphrase"] == passphrase, body
    xdr = body["transaction"]

    challenge = read_challenge_transaction(
        challenge_transaction=xdr,
        server_account_id=server_account,
        home_domains=expected,
        web_auth_domain=expected,
        network_passphrase=passphrase,
    )
    assert challenge.client_account_id == client.public_key, challenge.client_account_id
    assert challenge.matched_home_domain == expected
    if memo:
        assert str(challenge.memo) == memo, challenge.memo

    envelope = TransactionEnvelope.from_xdr(xdr, passphrase)
    envelope.sign(client)
    signed = envelope.to_xdr()

    verify_challenge_transaction_signed_by_client_master_key(
        challenge_transaction=signed,
        server_account_id=server_account,
        home_domains=expected,
        web_auth_domain=expected,
        network_passphrase=passphrase,
    )

    res = requests.post(f"{base}/auth", data={"transaction": signed}, headers=headers, timeout=10)
    if res.status_code != 200:
        sys.exit(f"token exchange failed: {res.status_code} {res.text}")
    print(json.dumps({"token": res.json()["token"], "client_account_id": challenge.client_account_id, "memo": challenge.memo}))


if __name__ == "__main__":
    main()
