"""A local Zoho: Accounts (OAuth), Cliq API v2, People and Connect, plus a control API.

It is an independent implementation of Zoho's documented behaviour and never imports
hrsync's client side. ``Emulator.handle`` is a plain function from request to response;
``asgi.py`` serves it over HTTP and ``transport.py`` wires it into an ``httpx.Client``
in-process.
"""

from hrsync.emulator.app import Emulator
from hrsync.emulator.core import EmuRequest, EmuResponse

__all__ = ["EmuRequest", "EmuResponse", "Emulator"]
