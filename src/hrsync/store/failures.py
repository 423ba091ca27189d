"""What a database failure means to an operator, told without naming SQLAlchemy outside the
store: the exception classes of a store URL that cannot be used and of a database that
cannot be reached, and the driver's own error behind one."""

from __future__ import annotations

from sqlalchemy import exc

BAD_URL: tuple[type[BaseException], ...] = (exc.NoSuchModuleError, exc.ArgumentError)
UNREACHABLE: tuple[type[BaseException], ...] = (exc.OperationalError, exc.InterfaceError)


def driver_error(problem: BaseException) -> BaseException:
    """The database driver's error behind ``problem`` (what it says is the useful part)."""
    if isinstance(problem, exc.DBAPIError) and problem.orig is not None:
        return problem.orig
    return problem
