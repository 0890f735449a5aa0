"""`tf.app.run` and `tf.app.flags` / `tf.flags`: enough for the TF 1.x examples' `main(_)` pattern.

Flags are defined with `DEFINE_string/integer/float/boolean/list` and read
as `FLAGS.name`; the command line is parsed on `run()` or on the first read
(as TF 1.x's own flags did), `--name=value`, `--name value`, `--name` /
`--noname` for booleans. Arguments that are not defined flags are left for
`main(argv)`. `run` ends the process with `sys.exit(main(argv))`, as TF does.

>>> values = FlagValues()
>>> flags.DEFINE_integer("steps", 10, "training steps", flag_values=values)
>>> values(["prog", "--steps=5", "extra"])
['prog', 'extra']
>>> values.steps
5
"""
from __future__ import annotations

import sys
import types
from typing import Any, Callable, NamedTuple, Optional, Sequence


class _Flag(NamedTuple):
    parse: Callable[[str], Any]
    default: Any
    help: str
    boolean: bool


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "t", "1", "yes"):
        return True
    if lowered in ("false", "f", "0", "no"):
        return False
    raise ValueError(f"expected true or false, found {text!r}")


class FlagValues:
    """The defined flags and their values; read them as attributes."""

    def __init__(self) -> None:
        self.__dict__["_flags"] = {}
        self.__dict__["_values"] = {}
        self.__dict__["_parsed"] = False

    def _define(self, name: str, default: Any, help: str, parse: Callable[[str], Any], boolean: bool = False) -> None:
        if name in self._flags:
            raise ValueError(f"flag --{name} is defined twice")
        self._flags[name] = _Flag(parse, default, help, boolean)
        self._values[name] = default

    def __call__(self, argv: Sequence[str]) -> list[str]:
        """Parse `argv` (argv[0] is the program); return the arguments that are not flags."""
        rest, args = [argv[0]] if argv else [], list(argv[1:])
        while args:
            arg = args.pop(0)
            if arg == "--":
                rest += args
                break
            name, value = self._split(arg, args)
            if name is None:
                rest.append(arg)
                continue
            flag = self._flags[name]
            try:
                self._values[name] = flag.parse(value)
            except ValueError as e:
                raise ValueError(f"flag --{name}: {e}") from None
        self.__dict__["_parsed"] = True
        return rest

    def _split(self, arg: str, args: list) -> tuple[Optional[str], Any]:
        """(flag name, its text value) for a defined flag, else (None, None)."""
        if not arg.startswith("-"):
            return None, None
        body = arg.lstrip("-")
        name, eq, value = body.partition("=")
        if name in self._flags:
            if eq:
                return name, value
            if self._flags[name].boolean:
                return name, "true"
            if not args:
                raise ValueError(f"flag --{name} needs a value")
            return name, args.pop(0)
        if name.startswith("no") and name[2:] in self._flags and self._flags[name[2:]].boolean and not eq:
            return name[2:], "false"
        return None, None

    def __getattr__(self, name: str) -> Any:
        if name not in self._flags:
            raise AttributeError(f"no flag --{name} is defined")
        if not self._parsed:
            self(sys.argv)
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._flags:
            raise AttributeError(f"no flag --{name} is defined")
        self._values[name] = value

    def __contains__(self, name: str) -> bool:
        return name in self._flags

    def flag_values_dict(self) -> dict:
        return dict(self._values)

    def _reset(self) -> None:
        """Forget every flag (tests)."""
        self.__init__()


FLAGS = FlagValues()


def _definer(parse: Callable[[str], Any], boolean: bool = False):
    def define(name: str, default: Any, help: str = "", flag_values: FlagValues = FLAGS, **kwargs: Any) -> None:
        flag_values._define(name, default, help, parse, boolean)
    return define


def _list(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


flags = types.SimpleNamespace(
    FLAGS=FLAGS, FlagValues=FlagValues,
    DEFINE_string=_definer(str), DEFINE_integer=_definer(int), DEFINE_float=_definer(float),
    DEFINE_boolean=_definer(_bool, True), DEFINE_bool=_definer(_bool, True), DEFINE_list=_definer(_list),
    DEFINE_enum=lambda name, default, enum_values, help="", flag_values=FLAGS, **kw: flag_values._define(
        name, default, help, lambda text: _enum(name, text, enum_values)),
)


def _enum(name: str, text: str, allowed: Sequence[str]) -> str:
    if text not in allowed:
        raise ValueError(f"expected one of {list(allowed)}, found {text!r}")
    return text


def run(main: Optional[Callable[[list], Any]] = None, argv: Optional[Sequence[str]] = None) -> None:
    """Parse the flags from `argv` (default sys.argv), then `sys.exit(main(remaining argv))`."""
    rest = FLAGS(list(sys.argv if argv is None else argv))
    if main is None:
        main = sys.modules["__main__"].main
    sys.exit(main(rest))
