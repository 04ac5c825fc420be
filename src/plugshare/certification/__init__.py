"""Certification: an issuer's keys, the signed certificates it issues from a passing conformance report, their
verification, and the signed list of certificates it has revoked.

A buyer holds only the issuer's public key: a certificate and a revocation list are each one JSON file signed
with Ed25519, so anyone can check them offline, and a file changed by a single byte is refused.
``keys`` makes and reads the keys and signs; ``certificates`` issues and verifies; ``revocations`` keeps the
list of revoked certificates.
"""
