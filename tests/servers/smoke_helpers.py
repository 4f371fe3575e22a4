"""Small helpers for smoke.sh (run with the Authlib venv's python: it needs
joserfc and cryptography). Each subcommand prints its result on stdout.

  keys DIR                      RSA + EC keys for private_key_jwt (DIR/jwks.json public,
                                DIR/private.json private) and an RSA pair for the
                                JWT bearer grant (DIR/bearer_pub.pem, DIR/bearer_priv.pem)
  assertion PRIVATE_JSON KID ALG CLIENT_ID AUD    private_key_jwt client assertion
  hs-assertion SECRET CLIENT_ID AUD               client_secret_jwt client assertion (HS256)
  jwt-bearer PEM ISS SUB AUD                      RFC 7523 §2.1 authorization grant (RS256)
  pkce                          "<verifier> <S256 challenge>"
  json FILE KEY                 top-level value of a JSON file ("" when absent)
  query URL KEY                 a query parameter of URL ("" when absent)
  formenc STRING                application/x-www-form-urlencoded encoding (RFC 6749 App. B)
  basic ID SECRET               "Basic base64(formenc(id):formenc(secret))" (RFC 6749 §2.3.1)
  urljoin BASE REF              resolve REF against BASE
  hidden FILE NAME              value of the first <input name=NAME value=...> in an HTML file
  action FILE                   action attribute of the first <form> in an HTML file
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote_plus, urljoin, urlsplit


def cmd_keys(directory: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from joserfc.jwk import ECKey, RSAKey

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    rsa_key = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"})
    ec_key = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig", "alg": "ES256"})
    (d / "jwks.json").write_text(json.dumps({"keys": [
        rsa_key.as_dict(private=False), ec_key.as_dict(private=False)]}))
    (d / "private.json").write_text(json.dumps({"keys": [
        rsa_key.as_dict(private=True), ec_key.as_dict(private=True)]}))
    bearer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (d / "bearer_priv.pem").write_bytes(bearer.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (d / "bearer_pub.pem").write_bytes(bearer.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def _claims(iss: str, sub: str, aud: str) -> dict:
    now = int(time.time())
    return {"iss": iss, "sub": sub, "aud": aud, "iat": now, "exp": now + 120,
            "jti": secrets.token_urlsafe(16)}


def cmd_assertion(private_json: str, kid: str, alg: str, client_id: str, aud: str) -> None:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set(json.loads(Path(private_json).read_text()))
    key = keys.get_by_kid(kid)
    print(jwt.encode({"alg": alg, "kid": kid, "typ": "JWT"}, _claims(client_id, client_id, aud), key,
                     algorithms=[alg]))


def cmd_hs_assertion(secret: str, client_id: str, aud: str) -> None:
    from joserfc import jwt
    from joserfc.jwk import OctKey

    key = OctKey.import_key(secret.encode())
    print(jwt.encode({"alg": "HS256", "typ": "JWT"}, _claims(client_id, client_id, aud), key,
                     algorithms=["HS256"]))


def cmd_jwt_bearer(pem: str, iss: str, sub: str, aud: str) -> None:
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(Path(pem).read_bytes())
    print(jwt.encode({"alg": "RS256", "typ": "JWT"}, _claims(iss, sub, aud), key,
                     algorithms=["RS256"]))


def cmd_pkce() -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    print(verifier, challenge)


def cmd_json(file: str, key: str) -> None:
    try:
        data = json.loads(Path(file).read_text() or "null")
    except ValueError:
        print("")
        return
    value = data.get(key) if isinstance(data, dict) else None
    if value is None:
        print("")
    elif isinstance(value, (dict, list, bool)):
        print(json.dumps(value))
    else:
        print(value)


def cmd_query(url: str, key: str) -> None:
    values = parse_qs(urlsplit(url).query, keep_blank_values=True).get(key)
    print(values[0] if values else "")


def cmd_formenc(value: str) -> None:
    print(quote_plus(value, safe=""))


def cmd_basic(client_id: str, secret: str) -> None:
    raw = f"{quote_plus(client_id, safe='')}:{quote_plus(secret, safe='')}"
    print("Basic " + base64.b64encode(raw.encode()).decode())


def cmd_urljoin(base: str, ref: str) -> None:
    print(urljoin(base, ref))


def cmd_hidden(file: str, name: str) -> None:
    text = Path(file).read_text(errors="replace")
    for tag in re.findall(r"<input\b[^>]*>", text, flags=re.I | re.S):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            m = re.search(r'\bvalue="([^"]*)"', tag)
            print(html.unescape(m.group(1)) if m else "")
            return
    print("")


def cmd_action(file: str) -> None:
    text = Path(file).read_text(errors="replace")
    m = re.search(r'<form\b[^>]*\baction="([^"]*)"', text, flags=re.I | re.S)
    print(html.unescape(m.group(1)) if m else "")


COMMANDS = {
    "keys": cmd_keys,
    "assertion": cmd_assertion,
    "hs-assertion": cmd_hs_assertion,
    "jwt-bearer": cmd_jwt_bearer,
    "pkce": cmd_pkce,
    "json": cmd_json,
    "query": cmd_query,
    "formenc": cmd_formenc,
    "basic": cmd_basic,
    "urljoin": cmd_urljoin,
    "hidden": cmd_hidden,
    "action": cmd_action,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
