"""signals: a playground for signal.signal(), signal.alarm() and signal.pause() (信号, day07).

    $ python -m lab.experiments.signals
    pid=20410: SIGINT, SIGUSR1, SIGALRM → 处理函数 (caught); SIGQUIT → SIG_IGN (ignored)
    signal.signal(SIGKILL, handler) 失败 (fails): [Errno 22] Invalid argument  (不能被处理 cannot be caught)
    signal.signal(SIGSTOP, handler) 失败 (fails): [Errno 22] Invalid argument  (不能被处理 cannot be caught)
    命令 (commands): catch|ign|dfl SIG, alarm N, pause, kill SIG, show;  Ctrl-D 退出 (quits)
    signal> ^C处理函数收到 SIGINT  (the handler runs, the process goes on)
    ign INT
    signal.signal(SIGINT, ...): 现在 (now) SIG_IGN (忽略 ignored)
    signal> ^Calarm 10
    signal.alarm(10) 返回 0: 之前没有时钟  (no alarm was set)
    signal> alarm 3
    signal.alarm(3) 返回 9: 之前的时钟还剩 9 秒, 被覆盖  (the previous alarm had 9 s left; this one replaces it)
    signal> pause
    signal.pause(): 阻塞等待一个信号  (waits for a signal)
    处理函数收到 SIGALRM  (the handler runs, the process goes on)
    signal.pause() 返回  (returned: a signal was handled)
    signal> dfl ALRM
    signal.signal(SIGALRM, ...): 现在 (now) SIG_DFL (默认处理 the default)
    signal> alarm 1
    signal.alarm(1) 返回 0: 之前没有时钟  (no alarm was set)
    signal> 
    Alarm clock          (the session says it, as bash does: SIGALRM ended the process)

It starts with SIGINT, SIGUSR1 and SIGALRM caught by a handler and SIGQUIT
ignored, tries to catch SIGKILL and SIGSTOP (the kernel refuses: the notes'
"signal函数不能处理SIGKILL SIGSTOP信号"), then takes commands, one a line:

    catch INT     signal.signal(SIGINT, handler)   a function handles it
    ign INT       signal.signal(SIGINT, SIG_IGN)   ignored: nothing happens
    dfl INT       signal.signal(SIGINT, SIG_DFL)   the default: SIGINT ends the process
    alarm 5       signal.alarm(5)    SIGALRM to itself in 5 s; it returns what was
                                     left of the previous alarm, which it replaces
                                     (一个进程中只能设置一个时钟)
    pause         signal.pause()     block until a signal is handled
    kill USR1     os.kill(os.getpid(), SIGUSR1): a signal to itself
    show          what each signal does now (signal.getsignal)

Press Ctrl-C while SIGINT is caught: the handler runs and the process goes
on.  "dfl ALRM" then "alarm 2": with no handler, SIGALRM ends the process
(the shell prints "Alarm clock").  Ctrl-D ends the playground.
"""
import os
import signal
import sys

from lab.report import say, set_role

HOW = {signal.SIG_DFL: "SIG_DFL (默认处理 the default)", signal.SIG_IGN: "SIG_IGN (忽略 ignored)"}
WATCHED = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGTERM", "SIGCHLD", "SIGTSTP")


def handler(sig, frame):
    """def func(sig, frame): sig is the signal, frame the code it interrupted."""
    say(f"处理函数收到 {signal.Signals(sig).name}  (the handler runs, the process goes on)")


def how(sig):
    disposition = signal.getsignal(sig)
    return HOW.get(disposition, "handler (处理函数 a function)")


def parse(name):
    sig = getattr(signal, "SIG" + name.upper().removeprefix("SIG"), None)
    if not isinstance(sig, signal.Signals):
        raise ValueError(f"没有这个信号 (no such signal): {name}")
    return sig


def command(line):
    words = line.split()
    if not words:
        return
    verb, args = words[0].lower(), words[1:]
    if verb in ("catch", "ign", "dfl") and len(args) == 1:
        sig = parse(args[0])
        new = {"catch": handler, "ign": signal.SIG_IGN, "dfl": signal.SIG_DFL}[verb]
        try:
            signal.signal(sig, new)
        except (OSError, ValueError) as exc:            # SIGKILL, SIGSTOP
            say(f"signal.signal({sig.name}, ...) 失败 (fails): {exc}")
            return
        say(f"signal.signal({sig.name}, ...): 现在 (now) {how(sig)}")
    elif verb == "alarm" and len(args) == 1 and args[0].isdigit():
        left = signal.alarm(int(args[0]))
        if left:
            say(f"signal.alarm({args[0]}) 返回 {left}: 之前的时钟还剩 {left} 秒, 被覆盖  "
                f"(the previous alarm had {left} s left; this one replaces it)")
        else:
            say(f"signal.alarm({args[0]}) 返回 0: 之前没有时钟  (no alarm was set)")
    elif verb == "pause" and not args:
        say("signal.pause(): 阻塞等待一个信号  (waits for a signal)")
        signal.pause()
        say("signal.pause() 返回  (returned: a signal was handled)")
    elif verb == "kill" and len(args) == 1:
        sig = parse(args[0])
        say(f"os.kill({os.getpid()}, {sig.name})  (a signal to itself)")
        os.kill(os.getpid(), sig)
    elif verb == "show" and not args:
        for name in WATCHED:
            say(f"  {name}: {how(getattr(signal, name))}")
    else:
        say("命令 (commands): catch|ign|dfl SIG, alarm N, pause, kill SIG, show")


def main():
    set_role("playground")
    for sig in (signal.SIGINT, signal.SIGUSR1, signal.SIGALRM):
        signal.signal(sig, handler)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    say(f"pid={os.getpid()}: SIGINT, SIGUSR1, SIGALRM → 处理函数 (caught); SIGQUIT → SIG_IGN (ignored)")
    for sig in (signal.SIGKILL, signal.SIGSTOP):
        try:
            signal.signal(sig, handler)
        except OSError as exc:
            say(f"signal.signal({sig.name}, handler) 失败 (fails): {exc}  (不能被处理 cannot be caught)")
    say("命令 (commands): catch|ign|dfl SIG, alarm N, pause, kill SIG, show;  Ctrl-D 退出 (quits)")
    while True:
        try:
            line = input("signal> ")
        except EOFError:
            say("EOF (Ctrl-D): 退出 (bye)")
            return
        try:
            command(line)
        except ValueError as exc:
            say(str(exc))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
