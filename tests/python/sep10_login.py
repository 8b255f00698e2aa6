"""SEP-10 as a sending anchor does it with the Python stellar-sdk: read stellar.toml,
check the challenge with the SDK's reader, sign, exchange. Shared by the flow scripts."""

import requests
import toml_parser
from stellar_sdk import Keypair, TransactionEnvelope
from stellar_sdk.sep.stellar_web_authentication import read_challenge_transaction


def path_of(url: str) -> str:
    """The toml names public URLs; the scripts reach them through BASE_URL."""
    return "/" + url.split("/", 3)[3]


def login(base: str, host: str, secret: str) -> tuple[dict, dict]:
    """Returns the parsed stellar.toml and request headers carrying the SEP-10 token."""
    client = Keypair.from_secret(secret)
    h = {"Host": host}
    toml = toml_parser.parse(requests.get(f"{base}/.well-known/stellar.toml", headers=h, timeout=10).text)
    passphrase, server_key = toml["NETWORK_PASSPHRASE"], toml["SIGNING_KEY"]
    auth_path = path_of(toml["WEB_AUTH_ENDPOINT"])
    xdr = requests.get(f"{base}{auth_path}", params={"account": client.public_key}, headers=h, timeout=10).json()["transaction"]
    read_challenge_transaction(xdr, server_key, host, host, passphrase)
    envelope = TransactionEnvelope.from_xdr(xdr, passphrase)
    envelope.sign(client)
    res = requests.post(f"{base}{auth_path}", json={"transaction": envelope.to_xdr()}, headers=h, timeout=10)
    res.raise_for_status()
    return toml, {**h, "Authorization": f"Bearer {res.json()['token']}"}
