"""A run's terminal session: the tiny shell in front of every lab program.

lab init starts one of these per run, on a fresh pseudo-terminal that is
already its controlling terminal:

    python -m lab.session -m lab.experiments.zombie --hold 60

Like a shell, it is the session leader (``Ss`` in ps), it starts the lab
program in a process group of its own and hands it the terminal, so the
program shows ``S+`` and Ctrl-C from the keyboard reaches the program's whole
group.  It waits for the program and reports how it ended, then takes the
terminal back, exactly as bash does when a foreground job finishes.

Why not make the lab program itself the session leader?  When a session
leader exits, the kernel hangs up its terminal and sends SIGHUP to the
foreground group: every orphan the lab was about to show would die with it.
In a real terminal the shell is the leader, so orphans live on; here too.
"""
import json
import os
import signal
import sys
import time

from lab import signals

EVENTS_FD = int(os.environ.get("PROCLAB_EVENTS_FD", "-1"))
JOB_CONTROL = (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)


def report(kind, **fields):
    fields.update(kind=kind, pid=fields.get("pid", os.getpid()), t=time.time(), by=os.getpid())
    try:
        os.write(EVENTS_FD, (json.dumps(fields) + "\n").encode())
    except OSError:
        pass


def say_how_it_died(sig, core):
    """What bash prints when its foreground job dies of a signal: "Killed",
    "Terminated", "Quit (core dumped)"; nothing for Ctrl-C or a broken pipe."""
    if sig in (signal.SIGINT, signal.SIGPIPE):
        return
    text = signal.strsignal(sig) or f"Signal {sig}"
    try:
        os.write(2, f"{text}{' (core dumped)' if core else ''}\n".encode())
    except OSError:
        pass


def main(argv):
    # An interactive shell ignores the keyboard's signals itself...
    for sig in JOB_CONTROL:
        signal.signal(sig, signal.SIG_IGN)

    pid = os.fork()
    if pid == 0:
        # ...and its job gets them back, in a group of its own, in the foreground.
        os.setpgid(0, 0)
        os.tcsetpgrp(0, os.getpid())
        for sig in JOB_CONTROL:
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execv(sys.executable, [sys.executable, *argv])
        finally:
            os._exit(127)

    # Both sides set the group, so whoever runs first, it is set before exec.
    try:
        os.setpgid(pid, pid)
        os.tcsetpgrp(0, pid)
    except OSError:
        pass  # the child already did it, or already exited
    report("root", pid=pid)

    while True:
        try:
            _, status = os.waitpid(pid, os.WUNTRACED | os.WCONTINUED)
        except ChildProcessError:
            break
        if os.WIFSTOPPED(status):
            report("stopped", pid=pid, signal=signals.name(os.WSTOPSIG(status)))
        elif os.WIFCONTINUED(status):
            report("continued", pid=pid)
        else:
            report("exited", pid=pid, **signals.exit_fields(status))
            if os.WIFSIGNALED(status):
                say_how_it_died(os.WTERMSIG(status), os.WCOREDUMP(status))
            break

    # The job is over: take the terminal back, as a shell does, and wait
    # until lab init ends the run (it ends it once the run's last process is gone).
    try:
        os.tcsetpgrp(0, os.getpgrp())
    except OSError:
        pass
    while True:
        signal.pause()


if __name__ == "__main__":
    main(sys.argv[1:])
