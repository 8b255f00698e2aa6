"""stellar.toml parsing for the test clients: Python 3.11's tomllib, no extra package."""

import tomllib


def parse(text: str) -> dict:
    return tomllib.loads(text)
