"""Pure Kraken protocol code: signing, nonces, error table, codecs, checksums, rate-limit
accounting. No I/O, no clock reads."""
