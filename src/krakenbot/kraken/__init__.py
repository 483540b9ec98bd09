"""Pure Kraken protocol code: signing, nonces, error table, codecs, rate-limit accounting."""
