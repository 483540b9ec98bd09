"""I/O shells: the only aiohttp/websockets client code."""
