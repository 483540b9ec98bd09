"""The network shells: the only aiohttp / websockets client code."""
