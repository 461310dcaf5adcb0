"""Print `::add-mask::` for the secret values inside a Vigiles/LinuxLink key file.

GitHub masks the raw secret input, but not values derived from it: the parsed key
and the account email can be printed by later tools, so they are masked here
before anything else runs. Errors never include file content.
"""
from __future__ import annotations

import json
import sys

SECRET_FIELDS = ("key", "organization_key", "email")


def mask_lines(data: object) -> list[str]:
    if not isinstance(data, dict):
        return []
    lines = []
    for field in SECRET_FIELDS:
        value = data.get(field)
        if isinstance(value, str) and value.strip():
            # A mask is one line; mask each line of a multi-line value separately.
            lines += [f"::add-mask::{part}" for part in value.splitlines() if part.strip()]
    return lines


def main(argv: list[str]) -> int:
    path = argv[1]
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        print(f"::error::key: cannot read key file {path}: {exc.strerror}")
        return 2
    except ValueError:
        print("::error::key: the key is not valid JSON (expected {\"email\": ..., \"key\": ...})")
        return 2
    lines = mask_lines(data)
    if not isinstance(data, dict) or not (data.get("key") or data.get("organization_key")):
        print("::error::key: the key JSON has no 'key' or 'organization_key' field")
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
