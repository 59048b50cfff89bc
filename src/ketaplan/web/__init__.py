"""`ketaplan serve`'s HTTP side: an ASGI application (Starlette) over the feed service.

Loaded only by `ketaplan serve`: Starlette and uvicorn are the optional `serve` extra.
"""
