"""Reads the RPC stand-in's asset events with Python's stellar-sdk (an independent
decoder): SorobanServer.get_events parses the JSON-RPC answer, the SDK decodes each
topic and value from XDR, and computes each asset's Stellar Asset Contract id.

Usage: rpc_events.py RPC_URL START_LEDGER NETWORK_PASSPHRASE
Prints one JSON object per event: name, from, to, asset, amount (stroops, string),
muxed id (type and value), and whether the contract is the asset's own SAC."""

import base64
import json
import sys

from stellar_sdk import Address, Asset, SorobanServer, scval, xdr
from stellar_sdk.soroban_rpc import EventFilter, EventFilterType


def address(v):
    return Address.from_xdr_sc_address(v.address).address


def main():
    url, start, passphrase = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    server = SorobanServer(url)
    transfer = scval.to_symbol("transfer").to_xdr()
    mint = scval.to_symbol("mint").to_xdr()
    filters = [EventFilter(event_type=EventFilterType.CONTRACT, topics=[[transfer, "*", "*", "*"], [mint, "*", "*"]])]
    events, cursor = [], None
    while True:
        if cursor is None:
            page = server.get_events(start_ledger=start, filters=filters, limit=100)
        else:
            page = server.get_events(filters=filters, cursor=cursor, limit=100)
        events.extend(page.events)
        if not page.events or page.cursor == cursor or len(page.events) < 100 and page.latest_ledger <= int(page.cursor.split("-")[0]) >> 32:
            break
        cursor = page.cursor
    out = []
    for e in events:
        topics = [xdr.SCVal.from_xdr(t) for t in e.topic]
        name = scval.from_symbol(topics[0])
        if name == "transfer":
            frm, to, asset = address(topics[1]), address(topics[2]), scval.from_string(topics[3]).decode()
        else:
            frm, to, asset = None, address(topics[1]), scval.from_string(topics[2]).decode()
        value = xdr.SCVal.from_xdr(e.value)
        muxed = None
        if value.type == xdr.SCValType.SCV_MAP:
            entries = {scval.from_symbol(m.key): m.val for m in value.map.sc_map}
            amount = scval.from_int128(entries["amount"])
            m = entries.get("to_muxed_id")
            if m is not None:
                if m.type == xdr.SCValType.SCV_U64:
                    muxed = ["id", str(scval.from_uint64(m))]
                elif m.type == xdr.SCValType.SCV_STRING:
                    muxed = ["text", scval.from_string(m).decode()]
                else:
                    muxed = ["hash", base64.b64encode(scval.from_bytes(m)).decode()]
        else:
            amount = scval.from_int128(value)
        if asset == "native":
            sac = Asset.native().contract_id(passphrase)
        else:
            code, issuer = asset.split(":")
            sac = Asset(code, issuer).contract_id(passphrase)
        out.append({
            "id": e.id, "name": name, "from": frm, "to": to, "asset": asset, "amount": str(amount),
            "muxed": muxed, "sac": sac == e.contract_id, "tx": e.transaction_hash,
        })
    print(json.dumps(out))


if __name__ == "__main__":
    main()
