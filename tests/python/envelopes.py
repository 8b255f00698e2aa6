"""Parses every envelope Mooring submitted with Python's stellar-sdk (an independent
XDR decoder and hasher) and checks each signature against the keys that had to sign.

Usage: envelopes.py NETWORK_PASSPHRASE ENVELOPES_JSON (a file: a JSON list of base64 XDR)
Prints one JSON object per envelope: hash, fee_bump, source, sequence, fee, memo type,
operation types, signatures and how many of them verify."""

import json
import sys

from stellar_sdk import FeeBumpTransactionEnvelope, Keypair, TransactionEnvelope
from stellar_sdk.exceptions import BadSignatureError


def verified(envelope, keys):
    count = 0
    for sig in envelope.signatures:
        for key in keys:
            kp = Keypair.from_public_key(key)
            if kp.signature_hint() != sig.signature_hint:
                continue
            try:
                kp.verify(envelope.hash(), sig.signature)
                count += 1
                break
            except BadSignatureError:
                pass
    return count


def main():
    passphrase = sys.argv[1]
    out = []
    with open(sys.argv[2]) as f:
        envelopes = json.load(f)
    for raw in envelopes:
        bump = FeeBumpTransactionEnvelope.is_fee_bump_transaction_envelope(raw)
        envelope = FeeBumpTransactionEnvelope.from_xdr(raw, passphrase) if bump else TransactionEnvelope.from_xdr(raw, passphrase)
        inner = envelope.transaction.inner_transaction_envelope if bump else envelope
        tx = inner.transaction
        keys = {tx.source.account_id} | {op.source.account_id for op in tx.operations if op.source}
        out.append({
            "hash": envelope.hash_hex(),
            "fee_bump": bump,
            "source": tx.source.account_id,
            "sequence": str(tx.sequence),
            "fee": tx.fee,
            "memo": type(tx.memo).__name__,
            "operations": [type(op).__name__ for op in tx.operations],
            "signatures": len(inner.signatures),
            "verified": verified(inner, keys),
            "home_domain": next((op.home_domain for op in tx.operations if type(op).__name__ == "SetOptions"), None),
        })
    print(json.dumps(out))


if __name__ == "__main__":
    main()
