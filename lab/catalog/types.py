"""What a lab is made of: parameters with bounds, suggested actions, texts in two languages."""
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass(frozen=True)
class Param:
    name: str
    type: str                 # "int" | "float" | "choice"
    default: object
    min: object = None
    max: object = None
    choices: tuple = ()
    label: dict = field(default_factory=dict)   # {"en": ..., "zh": ...}
    help: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    id: str                   # URL-safe: [a-z0-9_]
    kind: str                 # "signal" | "key" | "spawn"
    label: dict
    help: dict
    role: Optional[str] = None    # "signal": the role to signal; "worker*" matches a prefix
    signal: Optional[str] = None  # "signal": e.g. "SIGUSR1"
    key: Optional[str] = None     # "key": what to type into the run's terminal, e.g. "\x03"
    argv: tuple = ()              # "spawn": module + args of a helper started inside the run;
                                  # "{host}", "{port}", "{path}", "{address}" are filled in from
                                  # the endpoint the run's server announced (report.listening)
    pick: str = "all"             # "signal": "all" processes with the role, or one: "newest", "oldest"
    adds: object = 1              # "spawn": processes it brings into the run (a forking
                                  # server's child per client too), checked against the caps;
                                  # an int, or params -> int where the lab's parameters decide


@dataclass(frozen=True)
class Lab:
    name: str
    module: str
    title: dict
    summary: dict
    explain: dict
    params: tuple
    actions: tuple
    processes: Optional[Callable[[dict], int]] = None  # params -> exact number of processes


class ParamError(ValueError):
    """A bad parameter: ``param`` is its name (None if the body itself is wrong)."""

    def __init__(self, param, message):
        super().__init__(message)
        self.param = param
        self.message = message

    def __str__(self):
        return self.message


def en_zh(en, zh):
    return {"en": en, "zh": zh}


def hold_param(default, lo=0.5, hi=600.0, what=en_zh("every process", "每个进程")):
    return Param("hold", "float", float(default), lo, hi,
                 label=en_zh("hold (s)", "保持 (秒)"),
                 help=en_zh(f"how long {what['en']} stays alive, in seconds",
                         f"{what['zh']}存活的秒数"))


def signal_action(id, label, help, role, signal):
    return Action(id, "signal", label, help, role=role, signal=signal)


