"""Signals: the one place that names, parses and describes them.

    >>> name(2), name(35), name(62), name(32)
    ('SIGINT', 'SIGRTMIN+1', 'SIGRTMAX-2', 'SIG32')
    >>> parse("rtmin+1"), parse(9)
    ((35, 'SIGRTMIN+1'), (9, 'SIGKILL'))
    >>> names_in_mask(1 << 1 | 1 << 8)
    ['SIGINT', 'SIGKILL']

Names are those of bash's ``kill -l``, the shell a student types into:
1-31 as Python's ``signal.Signals`` spells them, the realtime signals
from the C library's SIGRTMIN (34 with glibc) as SIGRTMIN, SIGRTMIN+1 …
SIGRTMIN+15, SIGRTMAX-14 … SIGRTMAX-1, SIGRTMAX.  32 and 33 exist in the
kernel but glibc keeps them for its threads (NPTL's cancel and setxid
signals): they can show in a kernel mask, as SIG32 and SIG33 (gdb's
names), and cannot be sent from here.  No Flask here; lab init and the
run's session import it too, so it imports nothing of the lab.
"""
import os
import signal

RTMIN = int(getattr(signal, "SIGRTMIN", 34))
RTMAX = int(getattr(signal, "SIGRTMAX", 64))
_RT_HALF = (RTMAX - RTMIN) // 2          # bash names 34..49 from RTMIN, 50..64 from RTMAX

# What the kernel does with a signal nobody catches (signal(7)); realtime
# signals terminate.
_DEFAULT = {
    "SIGHUP": "terminate", "SIGINT": "terminate", "SIGQUIT": "core", "SIGILL": "core",
    "SIGTRAP": "core", "SIGABRT": "core", "SIGBUS": "core", "SIGFPE": "core",
    "SIGKILL": "terminate", "SIGUSR1": "terminate", "SIGSEGV": "core", "SIGUSR2": "terminate",
    "SIGPIPE": "terminate", "SIGALRM": "terminate", "SIGTERM": "terminate",
    "SIGSTKFLT": "terminate", "SIGCHLD": "ignore", "SIGCONT": "continue", "SIGSTOP": "stop",
    "SIGTSTP": "stop", "SIGTTIN": "stop", "SIGTTOU": "stop", "SIGURG": "ignore",
    "SIGXCPU": "core", "SIGXFSZ": "core", "SIGVTALRM": "terminate", "SIGPROF": "terminate",
    "SIGWINCH": "ignore", "SIGIO": "terminate", "SIGPWR": "terminate", "SIGSYS": "core",
}
UNCATCHABLE = frozenset({signal.SIGKILL, signal.SIGSTOP})
STOPPING = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})


def _name(num):
    if RTMIN <= num <= RTMAX:
        if num == RTMIN:
            return "SIGRTMIN"
        if num == RTMAX:
            return "SIGRTMAX"
        if num - RTMIN <= _RT_HALF:
            return f"SIGRTMIN+{num - RTMIN}"
        return f"SIGRTMAX-{RTMAX - num}"
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"SIG{num}"


_NAMES = [None] + [_name(n) for n in range(1, 65)]
_NUMBERS = {alias: int(sig) for alias, sig in signal.Signals.__members__.items()}   # SIGPOLL, SIGIOT…
_NUMBERS.update((n, num) for num, n in enumerate(_NAMES) if num)
_MASK_NAMES = {}     # mask -> names: a handful of distinct masks recur in every sample


def name(num):
    """SIGINT, SIGRTMIN+1, SIG32 …: the name of any signal number 1-64."""
    return _NAMES[num] if 0 < num < len(_NAMES) else f"SIG{num}"


def sendable(num):
    """Can a program send it: 1-31 and the realtime signals (not glibc's 32, 33)."""
    return 1 <= num < 32 or RTMIN <= num <= RTMAX


def realtime(num):
    return RTMIN <= num <= RTMAX


def default_action(num):
    """terminate, core, ignore, stop or continue: what happens if it is not caught."""
    return _DEFAULT.get(name(num), "terminate")


def parse(value):
    """2, "SIGINT", "int", "SIGRTMIN+1", "RTMAX-3" -> (number, canonical name).
    ValueError, with a sentence for the student, for anything that cannot be sent."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"signal must be a name like \"SIGINT\" or a number from 1 to {RTMAX}")
    if isinstance(value, int):
        if not sendable(value):
            raise ValueError(f"signal {value} does not exist: use 1-31 or {RTMIN}-{RTMAX}")
        return value, name(value)
    text = value.strip().upper().replace(" ", "")
    if not text.startswith("SIG"):
        text = "SIG" + text
    num = _NUMBERS.get(text)
    if num is None:                # SIGRTMIN+20 is SIGRTMAX-10: any offset within range
        for base, sign, origin in (("SIGRTMIN+", 1, RTMIN), ("SIGRTMAX-", -1, RTMAX)):
            offset = text[len(base):]
            if text.startswith(base) and offset.isdigit() and len(offset) <= 2:
                num = origin + sign * int(offset)
    if num is None or not sendable(num):
        raise ValueError(f"unknown signal {value!r}")
    return num, name(num)


def names_in_mask(mask):
    """Names of the signals in a kernel mask (bit n-1 = signal n), ascending."""
    names = _MASK_NAMES.get(mask)
    if names is None:
        names = []
        rest = mask
        while rest:
            low = rest & -rest
            names.append(name(low.bit_length()))
            rest ^= low
        names = tuple(names)
        if len(_MASK_NAMES) < 4096:
            _MASK_NAMES[mask] = names
    return list(names)


def table():
    """Every signal a program can send, for the browser's list: number, name,
    default action, catchable, realtime."""
    return [{"number": num, "name": name(num), "default": default_action(num),
             "catchable": num not in UNCATCHABLE, "realtime": realtime(num)}
            for num in range(1, RTMAX + 1) if sendable(num)]


def exit_fields(status):
    """A wait status as lab init and the session report it: {"code": n} or {"signal": "SIGKILL"}."""
    if os.WIFSIGNALED(status):
        return {"signal": name(os.WTERMSIG(status))}
    return {"code": os.WEXITSTATUS(status)}
