"""Pure Kraken protocol code: signing, nonces, errors, codecs, checksums, rate limits. No I/O."""
