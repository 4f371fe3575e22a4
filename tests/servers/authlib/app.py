"""Test OAuth 2.0 authorization server for the oauth-clients integration tests.

Built on Authlib's server classes (authlib.integrations.flask_oauth2), with an
in-memory store. Loopback only, no TLS.

Environment:
  PORT                        port to listen on, 0 (default) = pick a free one
  ACCESS_TOKEN_TTL            access token lifetime in seconds (default 300)
  REFRESH_TOKEN_TTL           refresh token lifetime in seconds (default 86400)
  DEVICE_CODE_TTL             device_code / user_code lifetime in seconds (default 600)
  DEVICE_INTERVAL             polling interval returned by the device endpoint (default 1)
  REDIRECT_URIS               extra redirect URIs (comma separated, exact match)
  JWT_CLIENT_JWKS             JSON file {"keys":[...]} with the public keys of
                              `jwt-client` (private_key_jwt); skipped when unset
  JWT_BEARER_PUBLIC_KEY_FILE  PEM public key (RSA or EC) that verifies the
                              assertions of the JWT bearer grant (RFC 7523 §2.1),
                              issuer `jwt-bearer-client`; skipped when unset

On start it prints exactly one line to stdout:
`listening on http://127.0.0.1:<port>`; logs go to stderr.
"""

from __future__ import annotations

import html
import json
import logging
import os
import signal
import sys
import threading
import time
from urllib.parse import urlsplit, urlunsplit

# Plain http is fine on loopback; Authlib refuses it without this.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402
from cryptography.hazmat.primitives.serialization import load_pem_public_key  # noqa: E402
from flask import Flask, Response, jsonify, request  # noqa: E402
from joserfc import jwt  # noqa: E402
from joserfc.errors import JoseError  # noqa: E402
from joserfc.jwk import ECKey, KeySet, OctKey, OKPKey, RSAKey  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from authlib.common.security import generate_token  # noqa: E402
from authlib.common.urls import add_params_to_uri  # noqa: E402
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector  # noqa: E402
from authlib.oauth2 import OAuth2Error  # noqa: E402
from authlib.oauth2.rfc6749 import (  # noqa: E402
    AuthorizationCodeMixin,
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    TokenMixin,
    grants,
    list_to_scope,
    scope_to_list,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator  # noqa: E402
from authlib.oauth2.rfc7009 import RevocationEndpoint  # noqa: E402
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion, JWTBearerGrant  # noqa: E402
from authlib.oauth2.rfc7636 import CodeChallenge  # noqa: E402
from authlib.oauth2.rfc7662 import IntrospectionEndpoint  # noqa: E402
from authlib.oauth2.rfc8628 import (  # noqa: E402
    DEVICE_CODE_GRANT_TYPE,
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    DeviceCredentialDict,
)
from authlib.oauth2.rfc9207 import IssuerParameter  # noqa: E402

log = logging.getLogger("authlib-test-server")


def int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a non-negative integer, got {raw!r}") from None
    if value < 0:
        raise SystemExit(f"{name} must be a non-negative integer, got {raw!r}")
    return value


HOST = "127.0.0.1"
PORT = int_env("PORT", 0)
ACCESS_TOKEN_TTL = int_env("ACCESS_TOKEN_TTL", 300)
REFRESH_TOKEN_TTL = int_env("REFRESH_TOKEN_TTL", 86400)
DEVICE_CODE_TTL = int_env("DEVICE_CODE_TTL", 600)
DEVICE_INTERVAL = int_env("DEVICE_INTERVAL", 1)

JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPES = ["openid", "profile", "email", "offline_access", "api:read", "api:write"]
USERS = {"alice": "wonderland", "bob": "builder"}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
ASYMMETRIC_ALGS = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "EdDSA", "Ed25519",
]
HMAC_ALGS = ["HS256", "HS384", "HS512"]

# Filled in once the socket is bound (PORT=0 picks the port).
ISSUER = ""


def issuer_urls() -> list[str]:
    return [ISSUER, ISSUER + "/", ISSUER + "/token"]


# --------------------------------------------------------------------------
# In-memory store
# --------------------------------------------------------------------------

LOCK = threading.RLock()
CLIENTS: dict[str, "Client"] = {}
AUTH_CODES: dict[str, "AuthorizationCode"] = {}
TOKENS: list["Token"] = []
ACCESS_INDEX: dict[str, "Token"] = {}
REFRESH_INDEX: dict[str, "Token"] = {}
DEVICE_CODES: dict[str, DeviceCredentialDict] = {}  # device_code -> credential
DEVICE_GRANTS: dict[str, tuple[str, bool]] = {}  # user_code -> (user, approved)
DEVICE_LAST_POLL: dict[str, float] = {}
USED_JTIS: dict[str, float] = {}


def strip_loopback_port(uri: str) -> str | None:
    """RFC 8252 §7.3: for loopback redirect URIs the port is not compared."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return None
    if parts.scheme != "http" or host is None:
        return None
    host_in_uri = f"[{host}]" if ":" in host else host
    if host_in_uri not in LOOPBACK_HOSTS and host not in LOOPBACK_HOSTS:
        return None
    userinfo = ""
    if parts.username is not None:
        return None
    return urlunsplit(("http", host_in_uri + userinfo, parts.path, parts.query, parts.fragment))


class Client(ClientMixin):
    def __init__(self, client_id, token_endpoint_auth_method, grant_types,
                 client_secret=None, redirect_uris=None, jwks=None):
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_endpoint_auth_method = token_endpoint_auth_method
        self.grant_types = list(grant_types)
        self.redirect_uris = list(redirect_uris or [])
        self.scope = " ".join(SCOPES)
        self.jwks = jwks

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        # the registered loopback URIs have no port, so a client must send one
        return None

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        allowed = set(scope_to_list(self.scope))
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri):
        if redirect_uri in self.redirect_uris:
            return True
        stripped = strip_loopback_port(redirect_uri)
        if stripped is None:
            return False
        return any(strip_loopback_port(r) == stripped for r in self.redirect_uris)

    def check_client_secret(self, client_secret):
        import hmac

        if self.client_secret is None:
            return False
        return hmac.compare_digest(self.client_secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method, endpoint):
        # the same method at every endpoint (token, revocation, introspection,
        # device authorization)
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type):
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type):
        return grant_type in self.grant_types


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, code, client_id, redirect_uri, scope, user,
                 code_challenge=None, code_challenge_method=None):
        self.code = code
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.user = user
        self.code_challenge = code_challenge
        self.code_challenge_method = code_challenge_method
        self.auth_time = int(time.time())
        self.expires_at = time.time() + 600

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def is_expired(self):
        return time.time() > self.expires_at


class Token(TokenMixin):
    def __init__(self, client_id, user, scope, access_token, expires_in,
                 refresh_token=None, token_type="Bearer"):
        now = int(time.time())
        self.client_id = client_id
        self.user = user
        self.scope = scope or ""
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.token_type = token_type
        self.issued_at = now
        self.expires_in = int(expires_in)
        self.refresh_expires_at = now + REFRESH_TOKEN_TTL if refresh_token else None
        self.access_revoked = False
        self.refresh_revoked = False

    # TokenMixin
    def check_client(self, client):
        return self.client_id == client.get_client_id()

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self):
        return self.access_revoked

    def get_user(self):
        return self.user

    def get_client(self):
        return CLIENTS.get(self.client_id)

    def refresh_usable(self):
        return (
            self.refresh_token is not None
            and not self.refresh_revoked
            and time.time() < (self.refresh_expires_at or 0)
        )


class TokenView:
    """A token as found by revocation / introspection: the grant plus which of
    its two strings (access or refresh) was presented."""

    def __init__(self, token: Token, kind: str):
        self.token = token
        self.kind = kind

    def check_client(self, client):
        return self.token.check_client(client)

    def is_expired(self):
        if self.kind == "refresh_token":
            return not self.token.refresh_usable() and not self.token.refresh_revoked
        return self.token.is_expired()

    def is_revoked(self):
        if self.kind == "refresh_token":
            return self.token.refresh_revoked
        return self.token.access_revoked

    def get_scope(self):
        return self.token.get_scope()


def find_token(token_string: str, hint: str | None) -> TokenView | None:
    with LOCK:
        order = ["access_token", "refresh_token"]
        if hint == "refresh_token":
            order.reverse()
        for kind in order:
            index = ACCESS_INDEX if kind == "access_token" else REFRESH_INDEX
            tok = index.get(token_string)
            if tok is not None:
                return TokenView(tok, kind)
    return None


def save_token(token: dict, req):
    client = req.client
    user = req.user
    tok = Token(
        client_id=client.get_client_id(),
        user=user,
        scope=token.get("scope", ""),
        access_token=token["access_token"],
        expires_in=token.get("expires_in", ACCESS_TOKEN_TTL),
        refresh_token=token.get("refresh_token"),
        token_type=token.get("token_type", "Bearer"),
    )
    with LOCK:
        TOKENS.append(tok)
        ACCESS_INDEX[tok.access_token] = tok
        if tok.refresh_token:
            REFRESH_INDEX[tok.refresh_token] = tok


def query_client(client_id):
    return CLIENTS.get(client_id)


# --------------------------------------------------------------------------
# Client authentication: private_key_jwt / client_secret_jwt (RFC 7523 §2.2)
# --------------------------------------------------------------------------


def _key_for_header(keyset: KeySet, header: dict):
    kid = header.get("kid")
    alg = header.get("alg", "")
    if kid is not None:
        for key in keyset.keys:
            if key.kid == kid:
                return key
        raise InvalidClientError(description=f"no key with kid {kid!r} registered")
    kty = {"R": "RSA", "P": "RSA", "E": "EC"}.get(alg[:1])
    if alg in ("EdDSA", "Ed25519"):
        kty = "OKP"
    candidates = [k for k in keyset.keys if k.key_type == kty]
    if len(candidates) == 1:
        return candidates[0]
    raise InvalidClientError(
        description="client_assertion has no kid and no single registered key matches its alg"
    )


class ClientAssertion(JWTBearerClientAssertion):
    """private_key_jwt: public keys from the client's JWKS (JWT_CLIENT_JWKS)."""

    CLIENT_AUTH_METHOD = "private_key_jwt"
    ALGORITHMS = ASYMMETRIC_ALGS

    def __call__(self, query_client, req):
        # Leave assertions of clients registered for the other JWT method to
        # that method (ClientAuthentication tries the methods in order).
        assertion = req.form.get("client_assertion")
        if req.form.get("client_assertion_type") == self.CLIENT_ASSERTION_TYPE and assertion:
            _, claims = self.extract_assertion(assertion)
            sub = claims.get("sub")
            client = query_client(sub) if isinstance(sub, str) else None
            if client is not None and client.token_endpoint_auth_method != self.CLIENT_AUTH_METHOD:
                return None
        return super().__call__(query_client, req)

    def get_audiences(self):
        return issuer_urls() + [request.base_url]

    def validate_jti(self, claims, jti):
        key = f"{claims['sub']}:{jti}"
        now = time.time()
        with LOCK:
            for k, exp in list(USED_JTIS.items()):
                if exp < now:
                    del USED_JTIS[k]
            if key in USED_JTIS:
                return False
            USED_JTIS[key] = float(claims.get("exp", now + 3600)) + 60
            return True

    def resolve_client_public_key(self, client):
        if client.token_endpoint_auth_method != self.CLIENT_AUTH_METHOD:
            raise InvalidClientError(
                description=f"The client cannot authenticate with method: {self.CLIENT_AUTH_METHOD}"
            )
        if not client.jwks:
            raise InvalidClientError(description="client has no registered keys")
        return KeySet.import_key_set(client.jwks)

    def process_assertion_claims(self, assertion, resolve_key):
        headers, _ = self.extract_assertion(assertion)
        key = resolve_key
        if isinstance(resolve_key, KeySet):
            key = _key_for_header(resolve_key, headers)
        try:
            token = jwt.decode(assertion, key, algorithms=self.ALGORITHMS)
        except (JoseError, ValueError) as e:
            raise InvalidClientError(description=str(getattr(e, "description", e))) from e
        self.verify_claims(token.claims)
        return token.claims


class ClientSecretAssertion(ClientAssertion):
    """client_secret_jwt: HMAC with the client secret."""

    CLIENT_AUTH_METHOD = "client_secret_jwt"
    ALGORITHMS = HMAC_ALGS

    def resolve_client_public_key(self, client):
        if client.token_endpoint_auth_method != self.CLIENT_AUTH_METHOD or not client.client_secret:
            raise InvalidClientError(
                description=f"The client cannot authenticate with method: {self.CLIENT_AUTH_METHOD}"
            )
        return OctKey.import_key(client.client_secret.encode())


CONFIDENTIAL_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"]
ALL_METHODS = CONFIDENTIAL_METHODS + ["none"]


# --------------------------------------------------------------------------
# Grants
# --------------------------------------------------------------------------


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS

    def save_authorization_code(self, code, req):
        payload = req.payload
        item = AuthorizationCode(
            code=code,
            client_id=req.client.get_client_id(),
            redirect_uri=payload.redirect_uri,
            scope=req.scope,
            user=req.user,
            code_challenge=payload.data.get("code_challenge"),
            code_challenge_method=payload.data.get("code_challenge_method"),
        )
        with LOCK:
            AUTH_CODES[code] = item

    def query_authorization_code(self, code, client):
        with LOCK:
            item = AUTH_CODES.get(code)
        if item and item.client_id == client.get_client_id() and not item.is_expired():
            return item
        return None

    def delete_authorization_code(self, authorization_code):
        with LOCK:
            AUTH_CODES.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class PKCE(CodeChallenge):
    # S256 only (RFC 9700 §2.1.1); public clients must use it (required=True)
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        # OAuth 2.1 / RFC 9700: a public client must send a code_challenge;
        # refuse at the authorization endpoint (error redirect), as
        # oidc-provider does, not only later at the token endpoint
        payload = grant.request.payload
        if (
            grant.request.client.token_endpoint_auth_method == "none"
            and not payload.data.get("code_challenge")
        ):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required for public clients")
        if payload.data.get("code_challenge") and not payload.data.get("code_challenge_method"):
            # the RFC 7636 default would be "plain", which is not supported
            raise InvalidRequestError("Missing 'code_challenge_method': only S256 is supported")
        return super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code):
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code):
        return authorization_code.code_challenge_method


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation

    def authenticate_refresh_token(self, refresh_token):
        with LOCK:
            tok = REFRESH_INDEX.get(refresh_token)
        if tok is not None and tok.refresh_usable():
            return tok
        return None

    def authenticate_user(self, refresh_token):
        return refresh_token.user

    def revoke_old_credential(self, refresh_token):
        # a used refresh token is dead; its access token too
        with LOCK:
            refresh_token.refresh_revoked = True
            refresh_token.access_revoked = True


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_METHODS


class DeviceGrant(DeviceCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS

    def query_device_credential(self, device_code):
        with LOCK:
            return DEVICE_CODES.get(device_code)

    def query_user_grant(self, user_code):
        with LOCK:
            return DEVICE_GRANTS.get(user_code)

    def should_slow_down(self, credential):
        now = time.time()
        device_code = credential["device_code"]
        with LOCK:
            last = DEVICE_LAST_POLL.get(device_code)
            DEVICE_LAST_POLL[device_code] = now
            interval = credential.get("interval", DEVICE_INTERVAL)
            # 0.2 s of tolerance for timer jitter
            if last is not None and now - last < interval - 0.2:
                credential["interval"] = interval + 5  # RFC 8628 §3.5
                return True
        return False

    def create_token_response(self):
        result = super().create_token_response()
        # a device_code is good for one token response only
        credential = self.request.credential
        with LOCK:
            DEVICE_CODES.pop(credential["device_code"], None)
            DEVICE_GRANTS.pop(credential["user_code"], None)
            DEVICE_LAST_POLL.pop(credential["device_code"], None)
        return result


class DeviceAuthorization(DeviceAuthorizationEndpoint):
    CLIENT_AUTH_METHODS = ALL_METHODS
    EXPIRES_IN = DEVICE_CODE_TTL
    INTERVAL = DEVICE_INTERVAL

    def get_verification_uri(self):
        return ISSUER + "/device"

    def save_device_credential(self, client_id, scope, data):
        credential = DeviceCredentialDict(
            client_id=client_id,
            scope=scope,
            expires_at=time.time() + data["expires_in"],
            **data,
        )
        with LOCK:
            DEVICE_CODES[data["device_code"]] = credential


class JWTBearer(JWTBearerGrant):
    """RFC 7523 §2.1: iss = `jwt-bearer-client`, sub = the user."""

    def get_audiences(self):
        return issuer_urls()

    def resolve_issuer_client(self, issuer):
        client = CLIENTS.get(issuer)
        if client is not None and client.check_grant_type(JWT_BEARER_GRANT_TYPE):
            return client
        return None

    def resolve_client_public_key(self, client):
        return JWT_BEARER_KEY

    def process_assertion_claims(self, assertion):
        # like Authlib's, but with an explicit algorithm list (joserfc's
        # default allows only the "recommended" RS256/ES256/HS256)
        from authlib.oauth2.rfc6749 import InvalidGrantError

        headers, claims = self.extract_assertion(assertion)
        issuer = claims.get("iss")
        client = self.resolve_issuer_client(issuer) if isinstance(issuer, str) else None
        if client is None:
            raise InvalidGrantError(description="Invalid claim: 'iss'")
        try:
            token = jwt.decode(assertion, JWT_BEARER_KEY, algorithms=ASYMMETRIC_ALGS)
        except (JoseError, ValueError) as e:
            raise InvalidGrantError(description=str(getattr(e, "description", e))) from e
        self.verify_claims(token.claims)
        return token.claims

    def authenticate_user(self, subject):
        # any non-empty subject is a user (service accounts included)
        return subject if isinstance(subject, str) and subject else None

    def has_granted_permission(self, client, user):
        return True


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ALL_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token, req):
        with LOCK:
            if token.kind == "refresh_token":
                # RFC 7009 §2.1: revoking a refresh token also revokes the
                # access tokens of the same grant
                token.token.refresh_revoked = True
                token.token.access_revoked = True
            else:
                token.token.access_revoked = True


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CONFIDENTIAL_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def check_permission(self, token, client, req):
        # any confidential client may introspect any token
        return True

    def introspect_token(self, token: TokenView):
        tok = token.token
        exp = (
            tok.refresh_expires_at
            if token.kind == "refresh_token"
            else tok.issued_at + tok.expires_in
        )
        body = {
            "active": True,
            "client_id": tok.client_id,
            "scope": tok.scope or None,
            "exp": exp,
            "iat": tok.issued_at,
            "iss": ISSUER,
            "sub": tok.user if tok.user else tok.client_id,
        }
        if tok.user:
            body["username"] = tok.user
        if token.kind == "access_token":
            body["token_type"] = tok.token_type
        return {k: v for k, v in body.items() if v is not None}


class Issuer(IssuerParameter):
    def get_issuer(self):
        return ISSUER


class BearerValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        with LOCK:
            return ACCESS_INDEX.get(token_string)


# --------------------------------------------------------------------------
# Configuration from the environment
# --------------------------------------------------------------------------


def load_public_jwks(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise SystemExit(f"{path}: expected a JSON object {{\"keys\": [...]}}")
    private = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
    return {"keys": [{k: v for k, v in key.items() if k not in private} for key in data["keys"]]}


def load_pem_public(path: str):
    with open(path, "rb") as fh:
        pem = fh.read()
    key = load_pem_public_key(pem)
    if isinstance(key, rsa.RSAPublicKey):
        return RSAKey.import_key(pem)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ECKey.import_key(pem)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return OKPKey.import_key(pem)
    raise SystemExit(f"{path}: unsupported public key type {type(key).__name__}")


def build_clients(redirect_uris: list[str]) -> None:
    code_grants = ["authorization_code", "refresh_token"]
    confidential_grants = code_grants + ["client_credentials", DEVICE_CODE_GRANT_TYPE]
    clients = [
        Client("basic-client", "client_secret_basic", confidential_grants,
               client_secret="s3cr3t@:/+&=%x", redirect_uris=redirect_uris),
        Client("post-client", "client_secret_post", confidential_grants,
               client_secret="post-s3cr3t@:/+&=%x", redirect_uris=redirect_uris),
        Client("public-client", "none", code_grants, redirect_uris=redirect_uris),
        Client("device-client", "none", [DEVICE_CODE_GRANT_TYPE, "refresh_token"]),
        Client("secret-jwt-client", "client_secret_jwt", confidential_grants,
               client_secret="secret-jwt-client-0123456789abcdefghijklmnopqrstuv",
               redirect_uris=redirect_uris),
    ]
    if os.environ.get("JWT_CLIENT_JWKS"):
        clients.append(Client("jwt-client", "private_key_jwt", confidential_grants,
                              redirect_uris=redirect_uris,
                              jwks=load_public_jwks(os.environ["JWT_CLIENT_JWKS"])))
    if JWT_BEARER_KEY is not None:
        # the assertion is the credential; this client does not authenticate
        # otherwise at the token endpoint
        clients.append(Client("jwt-bearer-client", "none", [JWT_BEARER_GRANT_TYPE]))
    for c in clients:
        CLIENTS[c.client_id] = c


JWT_BEARER_KEY = (
    load_pem_public(os.environ["JWT_BEARER_PUBLIC_KEY_FILE"])
    if os.environ.get("JWT_BEARER_PUBLIC_KEY_FILE")
    else None
)

REDIRECT_URIS = [
    "http://127.0.0.1/callback",
    "http://localhost/callback",
    "http://[::1]/callback",
] + [u.strip() for u in os.environ.get("REDIRECT_URIS", "").split(",") if u.strip()]
build_clients(REDIRECT_URIS)


# --------------------------------------------------------------------------
# Flask app
# --------------------------------------------------------------------------

app = Flask(__name__)
app.config["OAUTH2_SCOPES_SUPPORTED"] = SCOPES

server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
server.register_token_generator(
    "default",
    BearerTokenGenerator(
        access_token_generator=lambda *a, **k: generate_token(42),
        refresh_token_generator=lambda *a, **k: generate_token(48),
        expires_generator=ACCESS_TOKEN_TTL,
    ),
)
server.register_client_auth_method("private_key_jwt", ClientAssertion())
server.register_client_auth_method("client_secret_jwt", ClientSecretAssertion())
server.register_grant(AuthorizationCodeGrant, [PKCE(required=True)])
server.register_grant(RefreshTokenGrant)
server.register_grant(ClientCredentialsGrant)
server.register_grant(DeviceGrant)
if JWT_BEARER_KEY is not None:
    server.register_grant(JWTBearer)
server.register_endpoint(Revocation)
server.register_endpoint(Introspection)
server.register_endpoint(DeviceAuthorization)
server.register_extension(Issuer())

require_oauth = ResourceProtector()
require_oauth.register_token_validator(BearerValidator(realm="authlib-test"))


def page(title: str, body: str, status: int = 200) -> Response:
    doc = (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>"
        f"{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(doc, status=status, mimetype="text/html",
                    headers={"Cache-Control": "no-store"})


def check_login() -> str | None:
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if USERS.get(username) == password and username:
        return username
    return None


@app.route("/authorize", methods=["GET", "POST"])
def authorize():
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        response = server.handle_error_response(request, error)
        if error.redirect_uri and response.location:
            # RFC 9207 §2: `iss` in error responses too (Authlib's
            # IssuerParameter only decorates create_authorization_response)
            response.location = add_params_to_uri(response.location, {"iss": ISSUER})
        return response

    action = html.escape(request.full_path)
    client_id = html.escape(grant.client.get_client_id())
    scope = html.escape(grant.request.payload.scope or "")

    def form(message: str = "", status: int = 200):
        return page(
            "Sign in",
            (f"<p class=\"error\">{html.escape(message)}</p>" if message else "")
            + f"<p>Client <b>{client_id}</b> asks for scope <code>{scope}</code>.</p>"
            f"<form method=\"post\" action=\"{action}\">"
            "<input type=\"text\" name=\"username\" placeholder=\"username\">"
            "<input type=\"password\" name=\"password\" placeholder=\"password\">"
            "<button type=\"submit\" name=\"confirm\" value=\"yes\">Allow</button>"
            "<button type=\"submit\" name=\"confirm\" value=\"no\">Deny</button>"
            "</form>",
            status,
        )

    if request.method == "GET":
        return form()

    confirm = request.form.get("confirm")
    if confirm != "yes":
        # access_denied back to the client
        return server.create_authorization_response(grant=grant, grant_user=None)
    user = check_login()
    if user is None:
        return form("wrong username or password", 401)
    return server.create_authorization_response(grant=grant, grant_user=user)


@app.route("/token", methods=["POST"])
def issue_token():
    return server.create_token_response()


@app.route("/revoke", methods=["POST"])
def revoke_token():
    return server.create_endpoint_response(Revocation.ENDPOINT_NAME)


@app.route("/introspect", methods=["POST"])
def introspect_token():
    return server.create_endpoint_response(Introspection.ENDPOINT_NAME)


@app.route("/device_authorization", methods=["POST"])
def device_authorization():
    return server.create_endpoint_response(DeviceAuthorization.ENDPOINT_NAME)


def normalize_user_code(code: str) -> str:
    code = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


@app.route("/device", methods=["GET", "POST"])
def device():
    user_code = request.values.get("user_code", "")

    def form(message: str = "", status: int = 200):
        return page(
            "Device sign in",
            (f"<p class=\"error\">{html.escape(message)}</p>" if message else "")
            + "<form method=\"post\" action=\"/device\">"
            f"<input type=\"text\" name=\"user_code\" value=\"{html.escape(user_code)}\" placeholder=\"code\">"
            "<input type=\"text\" name=\"username\" placeholder=\"username\">"
            "<input type=\"password\" name=\"password\" placeholder=\"password\">"
            "<button type=\"submit\" name=\"confirm\" value=\"yes\">Allow</button>"
            "<button type=\"submit\" name=\"confirm\" value=\"no\">Deny</button>"
            "</form>",
            status,
        )

    if request.method == "GET":
        return form()

    code = normalize_user_code(user_code)
    with LOCK:
        credential = next((c for c in DEVICE_CODES.values() if c["user_code"] == code), None)
        if credential is None or credential.is_expired():
            return form("unknown or expired code", 400)
        if code in DEVICE_GRANTS:
            return form("this code was already used", 400)
    user = check_login()
    if user is None:
        return form("wrong username or password", 401)
    approved = request.form.get("confirm") == "yes"
    with LOCK:
        DEVICE_GRANTS[code] = (user, approved)
    return page("Done", "<p>Device approved, you can close this page.</p>" if approved
                else "<p>Device denied.</p>")


@app.route("/api/me")
def api_me():
    try:
        token = require_oauth.acquire_token()
    except OAuth2Error as error:
        missing = error.error == "missing_authorization"
        challenge = 'Bearer realm="authlib-test"'
        if not missing:
            challenge += f', error="{error.error}"'
            if error.description:
                challenge += f', error_description="{error.description.replace(chr(34), chr(39))}"'
        status = 401 if missing or error.status_code == 401 else error.status_code
        body = {"error": error.error}
        return Response(json.dumps(body), status=status, mimetype="application/json",
                        headers={"WWW-Authenticate": challenge})
    return jsonify({
        "sub": token.user or token.client_id,
        "client_id": token.client_id,
        "scope": token.scope,
    })


def metadata() -> dict:
    grant_types = ["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT_TYPE]
    if JWT_BEARER_KEY is not None:
        grant_types.append(JWT_BEARER_GRANT_TYPE)
    return {
        "issuer": ISSUER,
        "authorization_endpoint": ISSUER + "/authorize",
        "token_endpoint": ISSUER + "/token",
        "revocation_endpoint": ISSUER + "/revoke",
        "introspection_endpoint": ISSUER + "/introspect",
        "device_authorization_endpoint": ISSUER + "/device_authorization",
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": ALL_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASYMMETRIC_ALGS + HMAC_ALGS,
        "revocation_endpoint_auth_methods_supported": ALL_METHODS,
        "introspection_endpoint_auth_methods_supported": CONFIDENTIAL_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
    }


@app.route("/.well-known/oauth-authorization-server")
def well_known():
    return jsonify(metadata())


@app.route("/healthz")
def healthz():
    return jsonify({"ok": True})


def main() -> None:
    global ISSUER
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    httpd = make_server(HOST, PORT, app, threaded=True)
    ISSUER = f"http://{HOST}:{httpd.server_port}"

    def stop(_signum, _frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(f"listening on {ISSUER}\n")
    sys.stdout.flush()
    httpd.serve_forever()


if __name__ == "__main__":
    main()
