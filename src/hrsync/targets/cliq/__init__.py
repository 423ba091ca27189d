"""Zoho Cliq as a sync target.

``target`` reads the organisation and makes single calls (``learnt``: the update body and the
form of ``modified_after`` Cliq takes, learnt once); ``changes`` carries out each kind of
planned change, names and employee ids resolved
to Cliq's ids once; ``invite`` is the invitation round (100 to a call, managers first).
"""

from hrsync.targets.cliq.learnt import UPDATE_BODY
from hrsync.targets.cliq.target import CliqTarget
from hrsync.targets.cliq.wire import current_user

__all__ = ["UPDATE_BODY", "CliqTarget", "current_user"]
