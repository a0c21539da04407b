"""Entry point of the ``medreg`` command: import only what the command needs.

``medreg signals score`` works on a file, without the database or any other domain, and is what
scripts and the benchmarks call over and over; the whole command tree (``medreg.cli``) imports every
domain (about 2 s of CPU before the first row is read). So that one command runs from
``medreg.signals.cli`` alone; every other command goes through ``medreg.cli.app``.
"""

from __future__ import annotations

import sys

PROG = "medreg"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:2] == ["signals", "score"]:
        import typer

        from medreg.signals.cli import app as signals_app

        root = typer.Typer(add_completion=False)
        root.add_typer(signals_app, name="signals")
        root(args=args, prog_name=PROG)
    else:
        from medreg.cli import app

        app(args=args, prog_name=PROG)


if __name__ == "__main__":  # pragma: no cover
    main()
