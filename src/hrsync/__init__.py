"""hrsync keeps Zoho Cliq (and Zoho Connect) in step with an HR system."""

__version__ = "0.1.0"
