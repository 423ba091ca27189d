"""hrsync as a SCIM 2.0 service provider: identity providers and HR scripts push users to
``/scim/v2/``, and hrsync keeps them as a source like any other (``sources/scim.py``)."""
