"""Signals and renice, for lab processes only.  No Flask here.

A pid from a browser is only a number: the process behind it may have exited
and the number been given to someone else.  So every signal goes through a
pidfd, opened *before* we check the process: if the check passes, the pidfd
is bound to the process we checked, and a process that died in between makes
the send fail with ESRCH instead of hitting a stranger.
"""
import errno
import os
import signal
import time

from lab import procfs, proctree, signals

class ControlError(Exception):
    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def is_descendant(pid, ancestor, max_depth=128):
    """Follow PPIDs up from pid: does the chain reach ancestor?"""
    for _ in range(max_depth):
        fields = proctree.stat_fields(pid)
        if fields is None:
            return False
        pid = int(fields[1])
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


def open_lab_process(pid, launcher_pid, run_id=None):
    """A pidfd for a live lab process (of run_id, if given), and its run id;
    ControlError(404/403) otherwise."""
    if pid == launcher_pid:
        raise ControlError("lab init can be inspected but not signalled or reniced", 403)
    try:
        pidfd = os.pidfd_open(pid)
    except (ProcessLookupError, OverflowError):    # no such pid, or a number no pid can be
        raise ControlError(f"{pid} is not a lab process (no such process)", 404)
    except OSError as exc:                         # EMFILE, EINVAL for 0…: not the student's doing
        if exc.errno == errno.EINVAL:
            raise ControlError(f"{pid} is not a lab process (no such process)", 404)
        raise ControlError(f"cannot open a pidfd for {pid}: {exc.strerror}", 503)
    try:
        # Checked after opening the pidfd: whatever passes here is what the pidfd holds.
        fields = proctree.stat_fields(pid)
        if fields is None or fields[0] in (b"Z", b"X"):
            raise ControlError(f"{pid} is not a lab process (it has exited)", 404)
        run = proctree.environ_value(pid, "PROCLAB_RUN")
        if run is None or not is_descendant(pid, launcher_pid):
            raise ControlError(f"{pid} is not a lab process", 404)
        if run_id is not None and run != run_id:     # a number reused by another run
            raise ControlError(f"{pid} is not a process of run {run_id}", 404)
        return pidfd, run, int(fields[2])      # fields[2]: its process group
    except BaseException:
        os.close(pidfd)
        raise


PIDFD_SIGNAL_PROCESS_GROUP = 4     # linux/pidfd.h, Linux 6.9+


def send_signal(pid, signum, launcher_pid, target="pid", run_id=None, announce=None):
    """Send signum to one lab process (through its pidfd) or to its process group.
    announce(run, pgid), if given, is called once the target is known to be a
    lab process, just before the signal goes: the log tells the cause first."""
    pidfd, run, pgid = open_lab_process(pid, launcher_pid, run_id)
    try:
        if announce is not None:
            announce(run, pgid)
        if target == "pid":
            signal.pidfd_send_signal(pidfd, signum)
        else:
            _signal_group(pgid, signum, launcher_pid)
    except ProcessLookupError:
        raise ControlError(f"{pid} is not a lab process (it has exited)", 404)
    finally:
        os.close(pidfd)
    settle(group_members(pgid, launcher_pid) if target == "group" else [pid], signum)
    return run, pgid


def _signal_group(pgid, signum, launcher_pid):
    """Signal a lab process group, like the terminal does on Ctrl-C.

    At once, through a pidfd of the group's leader, where the kernel allows it
    (6.9+).  Otherwise (an older kernel, or the leader has exited and the group
    lives on, as in the orphan lab) member by member, each through its own
    pidfd after checking it is still in the group: never by a bare number,
    which could have been reused.  Unlike killpg, that is not atomic: a member
    forked during the loop is missed (the lab's orphaned groups rarely fork).
    """
    try:
        leader, _, _ = open_lab_process(pgid, launcher_pid)
    except ControlError as exc:
        if exc.status != 404:
            raise
        leader = None                       # the leader has exited
    if leader is not None:
        try:
            signal.pidfd_send_signal(leader, signum, None, PIDFD_SIGNAL_PROCESS_GROUP)
            return
        except OSError as exc:
            if exc.errno != errno.EINVAL:   # EINVAL: a kernel without group pidfd signals
                raise
        finally:
            os.close(leader)
    for pid in group_members(pgid, launcher_pid):
        try:
            pidfd, _, member_pgid = open_lab_process(pid, launcher_pid)
        except ControlError:
            continue                        # gone meanwhile
        try:
            if member_pgid == pgid:
                signal.pidfd_send_signal(pidfd, signum)
        except ProcessLookupError:
            pass
        finally:
            os.close(pidfd)


def group_members(pgid, launcher_pid):
    members = []
    for pid in proctree.descendants(launcher_pid):
        fields = proctree.stat_fields(pid)
        if fields is not None and int(fields[2]) == pgid:
            members.append(pid)
    return members


def settle(pids, signum, timeout=0.2):
    """Give a stop, continue or kill a moment to take effect in every target, so
    the sample after the action shows it: the kernel acts on a signal only when
    the target next runs.  Returns as soon as all have; other signals, or a
    handler that catches them, settle at once."""
    if signum in signals.STOPPING:
        done = lambda state: state in (b"T", b"t", b"Z", b"X")
    elif signum == signal.SIGCONT:
        done = lambda state: state not in (b"T",)
    elif signum == signal.SIGKILL:
        done = lambda state: state in (b"Z", b"X")
    else:
        return
    # A process that catches or ignores a stop has nothing to wait for.
    waiting = [pid for pid in pids if not (signum in signals.STOPPING and _handles(pid, signum))]
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        waiting = [pid for pid in waiting
                   if (fields := proctree.stat_fields(pid)) is not None and not done(fields[0])]
        if waiting:
            time.sleep(0.002)


def _handles(pid, signum):
    """Does pid catch or ignore signum?"""
    masks = procfs.signal_masks(pid)
    name = signals.name(signum)
    return masks is not None and (name in masks["caught"] or name in masks["ignored"])


def renice(pid, nice, launcher_pid):
    """setpriority(2) takes a pid, not a pidfd, so the pidfd is asked whether its
    process still lives just before: the pid could be reused only if the process
    exited, was reaped and its number handed out within those microseconds."""
    pidfd, run, _ = open_lab_process(pid, launcher_pid)
    try:
        signal.pidfd_send_signal(pidfd, 0)
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except PermissionError:
        raise ControlError(f"raising priority (nice {nice} < current) needs CAP_SYS_NICE "
                           "(run the dashboard as root to allow it)", 403)
    except ProcessLookupError:
        raise ControlError(f"{pid} is not a lab process (it has exited)", 404)
    finally:
        os.close(pidfd)
    return run
