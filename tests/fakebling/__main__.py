"""Run the fake standalone: ``python -m tests.fakebling --port 8900 --products 10000``."""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from .fake import FakeBling


def fake_options(args: argparse.Namespace) -> dict[str, Any]:
    """FakeBling's options from the command line (this command's and the sandbox's)."""
    return {
        "client_id": args.client_id,
        "client_secret": args.client_secret,
        "rate_per_second": args.rate or None,
        "redirect_uri": args.redirect_uri,
        "port": args.port,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake Bling ERP API v3 server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--products", type=int, default=0)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--share-without-code", type=float, default=0.2)
    parser.add_argument("--share-sold-out", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rate", type=int, default=3, help="requests per second; 0 disables the limiter"
    )
    parser.add_argument("--client-id", default="test-client-id")
    parser.add_argument("--client-secret", default="test-client-secret")
    parser.add_argument("--redirect-uri", default="http://127.0.0.1:8000/bling/callback/")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)

    fake = FakeBling(**fake_options(args), host=args.host)
    if args.products:
        fake.generate_catalog(
            args.products, args.categories, args.share_without_code, args.share_sold_out, args.seed
        )
    fake.start()
    tokens = fake.issue_tokens()
    print(f"base URL:       {fake.base_url}")
    print(f"token URL:      {fake.token_url}")
    print(f"authorize URL:  {fake.authorize_url}")
    print(f"client id:      {fake.client_id}")
    print(f"client secret:  {fake.client_secret}")
    print(f"company id:     {fake.company_id}")
    print(f"access token:   {tokens['access_token']}")
    print(f"refresh token:  {tokens['refresh_token']}")
    print(f"products:       {len(fake.products)}  (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
