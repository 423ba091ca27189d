"""Commands whose modules load only when they run.

``hrsync version`` and ``hrsync --help`` import none of the engine (SQLAlchemy, httpx, the
store, the emulator): each command's module is imported when that command is invoked or its
own help is asked for. The top-level help lists every command from its module's source (the
command's docstring, or the group's ``help=``), read without importing it.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup, TyperOption


@dataclass(frozen=True)
class Lazy:
    """Where a command lives: ``hrsync.cli.<module>``, as a group (its ``app``) or as a
    function its ``register(app)`` adds."""

    module: str
    group: bool = False


LAZY: dict[str, Lazy] = {
    "plan": Lazy("syncing"),
    "apply": Lazy("syncing"),
    "sync": Lazy("syncing"),
    "serve": Lazy("serve"),
    "explain": Lazy("explain"),
    "doctor": Lazy("doctor"),
    "runs": Lazy("runs", group=True),
    "emulator": Lazy("emulator", group=True),
    "connections": Lazy("connections", group=True),
    "integrations": Lazy("integrations", group=True),
    "admin": Lazy("admin", group=True),
    "config": Lazy("config", group=True),
    "sources": Lazy("sources", group=True),
}
# The order `hrsync --help` lists them in (the commands defined in main.py among them).
ORDER = (
    *("plan", "apply", "sync", "serve", "explain", "doctor", "version", "demo"),
    *("runs", "emulator", "connections", "integrations", "admin", "config", "sources"),
)


class LazyGroup(TyperGroup):
    """The ``hrsync`` group: commands from LAZY are built on first use."""

    listing = False  # while the top-level help is drawn: summaries only, nothing imported

    def list_commands(self, ctx: Any) -> list[str]:
        known = [name for name in ORDER if name in self.commands or name in LAZY]
        return known + [name for name in self.commands if name not in known]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in LAZY:
            return self.commands.get(cmd_name)
        where = LAZY[cmd_name]
        if self.listing:
            return TyperCommand(name=cmd_name, help=summary(cmd_name, where))
        command = loaded(cmd_name, where)
        self.commands[cmd_name] = command
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # Typer suggests from the commands built so far; these are not built yet.
        name = args[0] if args else ""
        known = self.list_commands(ctx)
        if name and not name.startswith("-") and name not in known:
            near = difflib.get_close_matches(name, known)
            if near:
                ctx.fail(f"No such command {name!r}. Did you mean {', '.join(map(repr, near))}?")
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


def loaded(name: str, where: Lazy) -> Any:
    """The click command ``name``, its module imported now."""
    module = importlib.import_module(f"hrsync.cli.{where.module}")
    # Built under a stand-in for the top app, so help reads as if it had been added there.
    holder = typer.Typer(rich_markup_mode="markdown", add_completion=False)
    if where.group:
        holder.add_typer(module.app, name=name)
    else:
        module.register(holder)
    command = typer.main.get_command(holder)
    return command.commands[name] if isinstance(command, TyperGroup) else command


def summary(name: str, where: Lazy) -> str:
    """What ``hrsync --help`` says of a command, read from its module's source."""
    spec = importlib.util.find_spec(f"hrsync.cli.{where.module}")
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if not where.group and isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_docstring(node) or ""
        if where.group and _assigns_app(node):
            assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            helps = [k.value for k in node.value.keywords if k.arg == "help"]
            return str(ast.literal_eval(helps[0])) if helps else ""
    return ""


def _assigns_app(node: ast.stmt) -> bool:
    """``app = typer.Typer(...)``."""
    if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
        return False
    return any(isinstance(t, ast.Name) and t.id == "app" for t in node.targets)


def _flag_takes_no_value(self: TyperOption, ctx: Any) -> str | None:
    # Typer's rich help shows a flag's type as if it took a value (`--json <bool>`); its plain
    # help does not, and neither should this.
    if self.is_flag or self.count:
        return None
    return _shown_type(self, ctx)


_shown_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_takes_no_value  # type: ignore[method-assign]
