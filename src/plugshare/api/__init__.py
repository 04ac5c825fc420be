"""The REST API v1 of the standard: the reference supplier server and its storage.

``open_store`` opens the SQLite store, ``create_token`` binds a bearer token to
councils, and ``make_app`` serves the store as an ASGI app (run it with uvicorn).
"""

from plugshare.api.app import Limits, make_app, reference_capabilities
from plugshare.api.store import Forbidden, Store, StoreError, TenantStore, open_store
from plugshare.api.tokens import Credential, TokenInfo, authenticate, create_token, list_tokens, revoke_token

__all__ = ["Credential", "Forbidden", "Limits", "Store", "StoreError", "TenantStore", "TokenInfo", "authenticate",
           "create_token", "list_tokens", "make_app", "open_store", "reference_capabilities", "revoke_token"]
