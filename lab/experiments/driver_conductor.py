"""driver_conductor: 司机和售票员的故事 (the day-07 homework), with real signals.

    $ python -m lab.experiments.driver_conductor --hold 60
    司机[11027] 上车, 售票员是 11028  (the driver gets on; Ctrl-Z: arrive)
    售票员[11028] 上车  (the conductor gets on; Ctrl-C: start, Ctrl-\\: faster)
    ^C售票员[11028] 收到 SIGINT → 发 SIGUSR1 给司机[11027]  (conductor got SIGINT → SIGUSR1 to the driver)
    司机[11027] 收到 SIGUSR1: 老司机开车了  (the driver starts the bus)
    ^\\售票员[11028] 收到 SIGQUIT → 发 SIGUSR2 给司机[11027]  (conductor got SIGQUIT → SIGUSR2 to the driver)
    司机[11027] 收到 SIGUSR2: 车速有点快，系好安全带  (a bit fast, fasten your seat belts)
    ^Z司机[11027] 收到 SIGTSTP → 发 SIGUSR1 给售票员[11028]  (driver got SIGTSTP → SIGUSR1 to the conductor)
    售票员[11028] 收到 SIGUSR1: 到站了请下车  (we have arrived, please get off)
    售票员[11028] 下车  (the conductor gets off first)
    司机[11027] 回收售票员 11028 (exit status 0), 司机也下车  (the driver reaps the conductor and gets off too)

- parent = driver (司机), child = conductor (售票员)
- Ctrl-C  → SIGINT  → conductor → SIGUSR1 → driver: "老司机开车了"
- Ctrl-\\ → SIGQUIT → conductor → SIGUSR2 → driver: "车速有点快，系好安全带"
- Ctrl-Z  → SIGTSTP → driver → SIGUSR1 → conductor: "到站了请下车"; the
  conductor gets off first (the child exits), then the driver reaps it and
  gets off too.  Nobody presses Ctrl-Z?  signal.alarm(--hold) ends the ride.

The keyboard sends its signal to the whole foreground process group, so each
side ignores the keys meant for the other: the driver ignores SIGINT and
SIGQUIT, the conductor ignores SIGTSTP.

Both wait in select() rather than in os.waitpid() or time.sleep(), see nap().
"""
import argparse
import os
import select
import signal

from lab.report import say, set_role

KEYS_AND_BELLS = {signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP, signal.SIGUSR1, signal.SIGUSR2}
driver = None      # the driver's pid (both know it)
conductor = None   # the conductor's pid (the driver knows it after fork)


# ---- waiting without missing a signal -------------------------------------
def signal_pipe():
    """A pipe that gets a byte for every signal this process catches."""
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w)
    return r


def nap(bell, timeout=None, also=()):
    """Sleep until a handler has run (`bell` is the signal pipe), one of `also`
    is ready, or `timeout` seconds pass; what is ready.

    Why not os.waitpid() or time.sleep()?  C runs a handler the moment the
    signal comes, even inside a system call; Python runs it later, between
    two bytecodes.  A signal that came in the instant before the call went
    to sleep would then be handled only when the call returns: the bus
    would start when the conductor gets off.  A byte in the pipe wakes
    select() up however early it came."""
    ready, _, _ = select.select([bell, *also], [], [], timeout)
    if bell in ready:
        os.read(bell, 512)               # the handlers have run by now
    return ready


# ---- the driver (parent) -------------------------------------------------
def bus_starts(sig, frame):
    say(f"司机[{os.getpid()}] 收到 SIGUSR1: 老司机开车了  (the driver starts the bus)")


def too_fast(sig, frame):
    say(f"司机[{os.getpid()}] 收到 SIGUSR2: 车速有点快，系好安全带  (a bit fast, fasten your seat belts)")


def arrive(sig, frame):
    name = signal.Signals(sig).name  # SIGTSTP (Ctrl-Z) or SIGALRM (the last stop)
    say(f"司机[{os.getpid()}] 收到 {name} → 发 SIGUSR1 给售票员[{conductor}]"
        f"  (driver got {name} → SIGUSR1 to the conductor)")
    try:
        os.kill(conductor, signal.SIGUSR1)
    except ProcessLookupError:
        pass  # already off the bus


# ---- the conductor (child) -----------------------------------------------
def start_bus(sig, frame):
    say(f"售票员[{os.getpid()}] 收到 SIGINT → 发 SIGUSR1 给司机[{driver}]"
        f"  (conductor got SIGINT → SIGUSR1 to the driver)")
    if os.getppid() == driver:  # never signal a stranger if the driver is gone
        os.kill(driver, signal.SIGUSR1)


def speed_up(sig, frame):
    say(f"售票员[{os.getpid()}] 收到 SIGQUIT → 发 SIGUSR2 给司机[{driver}]"
        f"  (conductor got SIGQUIT → SIGUSR2 to the driver)")
    if os.getppid() == driver:
        os.kill(driver, signal.SIGUSR2)


def get_off(sig, frame):
    say(f"售票员[{os.getpid()}] 收到 SIGUSR1: 到站了请下车  (we have arrived, please get off)")
    say(f"售票员[{os.getpid()}] 下车  (the conductor gets off first)")
    os._exit(0)


def main():
    global driver, conductor
    parser = argparse.ArgumentParser(description="司机和售票员: Ctrl-C, Ctrl-\\ and Ctrl-Z")
    parser.add_argument("--hold", type=int, default=300, help="seconds until the last stop (default 300)")
    args = parser.parse_args()
    if args.hold < 1:
        parser.error("--hold must be at least 1 (signal.alarm counts whole seconds)")

    # The driver's handlers exist before the conductor is born, and every key
    # or bell is held back (blocked, not lost) until each side has its own
    # handlers: a Ctrl-C pressed right at the start still starts the bus.
    driver = os.getpid()
    signal.signal(signal.SIGUSR1, bus_starts)
    signal.signal(signal.SIGUSR2, too_fast)
    signal.pthread_sigmask(signal.SIG_BLOCK, KEYS_AND_BELLS)

    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGINT, start_bus)
        signal.signal(signal.SIGQUIT, speed_up)
        signal.signal(signal.SIGTSTP, signal.SIG_IGN)  # Ctrl-Z is for the driver
        signal.signal(signal.SIGUSR1, get_off)
        signal.signal(signal.SIGUSR2, signal.SIG_DFL)  # only the driver listens to SIGUSR2
        set_role("conductor")
        say(f"售票员[{os.getpid()}] 上车  (the conductor gets on; Ctrl-C: start, Ctrl-\\: faster)")
        bell = signal_pipe()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, KEYS_AND_BELLS)  # now the keys held back arrive
        while os.getppid() == driver:  # if the driver was killed, get off as well
            nap(bell, 1.0)
        say(f"售票员[{os.getpid()}]: 司机不见了, 下车  (the driver is gone, the conductor gets off)")
        os._exit(1)

    conductor = pid
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is for the conductor
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)  # so is Ctrl-\
    signal.signal(signal.SIGTSTP, arrive)          # Ctrl-Z: we have arrived
    signal.signal(signal.SIGALRM, arrive)          # nobody pressed Ctrl-Z: the last stop
    signal.alarm(args.hold)
    set_role("driver")
    # Printed while the keys are still held back: no handler can cut into this print.
    say(f"司机[{driver}] 上车, 售票员是 {conductor}  (the driver gets on; Ctrl-Z: arrive)")
    bell = signal_pipe()
    on_board = os.pidfd_open(conductor)    # readable once the conductor has got off
    signal.pthread_sigmask(signal.SIG_UNBLOCK, KEYS_AND_BELLS)

    while on_board not in nap(bell, also=[on_board]):
        pass                                # the handlers run while the driver waits here
    signal.signal(signal.SIGTSTP, signal.SIG_IGN)  # the ride is over: no more stops
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    pid, status = os.waitpid(conductor, 0)
    how = (f"killed by signal {os.WTERMSIG(status)} ({signal.strsignal(os.WTERMSIG(status))})"
           if os.WIFSIGNALED(status)
           else f"exit status {os.WEXITSTATUS(status)}")
    say(f"司机[{driver}] 回收售票员 {pid} ({how}), 司机也下车  (the driver reaps the conductor and gets off too)")


if __name__ == "__main__":
    main()
