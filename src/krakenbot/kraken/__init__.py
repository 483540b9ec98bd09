"""Pure Kraken protocol code: codecs, checksums, signing. No I/O, no clock reads."""
