"""What an admin grants hrsync: the vault that seals secrets, the services hrsync can link to,
the connections to them and each connection's shared access token, the integrations that
join a source connection to a target one, and the re-authentication that guards changing
any of it. Their rows live in hrsync's database, reached only through ``hrsync.store``."""
