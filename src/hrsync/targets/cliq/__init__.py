"""Zoho Cliq as a sync target.

``target`` reads the organisation and makes single calls (learning once which update body Cliq
takes); ``changes`` carries out each kind of planned change, names and employee ids resolved
to Cliq's ids once; ``invite`` is the invitation round (100 to a call, managers first).
"""

from hrsync.targets.cliq.target import UPDATE_BODY, CliqTarget
from hrsync.targets.cliq.wire import current_user

__all__ = ["UPDATE_BODY", "CliqTarget", "current_user"]
