// What the kernel's letters and names mean, in words a student can read.
// Every text is {en, zh}; pick one with L() from i18n.js.

export const STATES = {
  // The notes' 三态 (就绪, 运行, 等待): R is 就绪态 or 运行态, S, D and T are kinds of 等待态.
  R: { en: 'running or runnable (the notes\' ready or running state)', zh: '运行中或可运行 (就绪态或运行态)' },
  S: { en: 'sleeping: waiting for something, interruptible (a waiting state)', zh: '睡眠: 等待某个事件, 可中断 (等待态)' },
  D: { en: 'uninterruptible sleep, usually disk I/O (a waiting state)', zh: '不可中断睡眠, 通常是磁盘 I/O (等待态)' },
  T: { en: 'stopped by a job-control signal (SIGSTOP, SIGTSTP…; a waiting state)', zh: '已暂停: 被作业控制信号停止 (SIGSTOP、SIGTSTP…; 等待态)' },
  t: { en: 'stopped by a debugger (traced)', zh: '被调试器暂停 (跟踪中)' },
  Z: { en: 'zombie: it has exited, but its parent has not wait()ed for it yet', zh: '僵尸: 已经退出, 但父进程还没有 wait() 回收它' },
  X: { en: 'dead (being removed)', zh: '已死亡 (正在被移除)' },
  I: { en: 'idle kernel thread', zh: '空闲内核线程' },
};

// Short names for legends and badges.
export const STATE_SHORT = {
  R: { en: 'running', zh: '运行' },
  S: { en: 'sleeping', zh: '睡眠' },
  D: { en: 'disk sleep', zh: '不可中断' },
  T: { en: 'stopped', zh: '暂停' },
  Z: { en: 'zombie', zh: '僵尸' },
};

export const FLAGS = {
  '<': { en: 'high priority (nice < 0): not nice to others', zh: '高优先级 (nice < 0)' },
  N: { en: 'low priority (nice > 0): nice to others', zh: '低优先级 (nice > 0)' },
  L: { en: 'has pages locked in memory', zh: '有页面被锁定在内存中' },
  s: { en: 'session leader (its PID is the session ID)', zh: '会话首进程 (PID 等于会话 ID)' },
  l: { en: 'multi-threaded', zh: '多线程' },
  '+': { en: 'in the foreground process group of its terminal: keys like Ctrl-C reach it', zh: '在终端的前台进程组中: Ctrl-C 等按键会发给它' },
};

// wchan: the kernel function a sleeping process waits in.  Order matters: first match wins.
const WCHAN = [
  [/^(do_wait|kernel_wait4|__do_sys_wait4|do_waitid)$/, { en: 'waiting in wait(): for a child to exit', zh: '在 wait() 中: 等待子进程退出' }],
  [/nanosleep$/, { en: 'in sleep(): a timer will wake it', zh: '在 sleep() 中: 定时器到时唤醒' }],
  [/^(do_select|core_sys_select)$/, { en: 'in select(): waiting for a file descriptor', zh: '在 select() 中: 等待文件描述符就绪' }],
  [/^(do_sys_poll|do_poll)$/, { en: 'in poll(): waiting for a file descriptor', zh: '在 poll() 中: 等待文件描述符就绪' }],
  [/^(do_epoll_wait|ep_poll)$/, { en: 'in epoll_wait(): waiting for events', zh: '在 epoll_wait() 中: 等待事件' }],
  [/futex/, { en: 'waiting on a futex: a lock or semaphore', zh: '在 futex 上等待: 锁或信号量' }],
  [/^(anon_pipe_read|pipe_read|pipe_wait|pipe_wait_readable)$/, { en: 'reading a pipe: waiting for data', zh: '读管道: 等待数据' }],
  [/^(anon_pipe_write|pipe_write|pipe_wait_writable)$/, { en: 'writing a pipe: waiting for room', zh: '写管道: 等待空间' }],
  [/^(inet_csk_accept|unix_accept)$/, { en: 'in accept(): waiting for a connection', zh: '在 accept() 中: 等待连接' }],
  [/^(sk_wait_data|tcp_recvmsg|unix_stream_read_generic|skb_wait_for_more_packets|__skb_wait_for_more_packets)$/,
    { en: 'in recv(): waiting for data on a socket', zh: '在 recv() 中: 等待套接字数据' }],
  [/^(inet_wait_for_connect|__inet_stream_connect)$/, { en: 'in connect(): waiting for the other side', zh: '在 connect() 中: 等待对方' }],
  [/(sigsuspend|sys_pause|sigtimedwait)$/, { en: 'in pause(): waiting for a signal', zh: '在 pause() 中: 等待信号' }],
  // wait_woken is shared: a terminal read (n_tty_read) and a TCP recv() both sleep there.
  [/^n_tty_read$/, { en: 'reading the terminal: waiting for a key', zh: '读终端: 等待按键' }],
  [/^wait_woken$/, { en: 'waiting for input: a key on its terminal, or data on a socket (recv)',
    zh: '等待输入: 终端按键, 或套接字上的数据 (recv)' }],
  [/^(do_signal_stop|get_signal)$/, { en: 'stopped: waiting for SIGCONT', zh: '已暂停: 等待 SIGCONT' }],
  [/^(ptrace_stop)$/, { en: 'stopped by a debugger', zh: '被调试器暂停' }],
];

// Shared wait channels, told apart by the system call the sampler read (lab/procfs.py).
const BY_SYSCALL = {
  select: 'do_select', pselect6: 'do_select', poll: 'do_sys_poll', ppoll: 'do_sys_poll',
  read: 'n_tty_read', readv: 'n_tty_read', recvfrom: 'sk_wait_data', recvmsg: 'sk_wait_data',
};

export function explainWchan(wchan, obj) {
  if (!wchan || wchan === '0' || wchan === '-') return null;
  let base = wchan.split('.')[0];                 // poll_schedule_timeout.constprop.0
  if (obj && obj.syscall && BY_SYSCALL[obj.syscall]) base = BY_SYSCALL[obj.syscall];
  else if (base === 'wait_woken' && obj && !(obj.sockets || []).length) base = 'n_tty_read';   // no socket: the terminal
  else if (base === 'poll_schedule_timeout') {
    return { en: 'in select() or poll(): waiting for a file descriptor', zh: '在 select() 或 poll() 中: 等待文件描述符就绪' };
  }
  for (const [re, text] of WCHAN) if (re.test(base)) return text;
  return { en: `in the kernel function ${wchan}`, zh: `在内核函数 ${wchan} 中` };
}

export const DEFAULT_ACTIONS = {
  terminate: { en: 'terminate', zh: '终止' },
  core: { en: 'core dump', zh: '终止+转储' },
  ignore: { en: 'ignore', zh: '忽略' },
  stop: { en: 'stop', zh: '暂停' },
  continue: { en: 'continue', zh: '继续' },
};

// What each common signal is for.
export const SIGNAL_MEANING = {
  SIGHUP: { en: 'hang-up: the terminal closed', zh: '挂断: 终端关闭' },
  SIGINT: { en: 'interrupt from the keyboard (Ctrl-C)', zh: '键盘中断 (Ctrl-C)' },
  SIGQUIT: { en: 'quit from the keyboard (Ctrl-\\)', zh: '键盘退出 (Ctrl-\\)' },
  SIGILL: { en: 'illegal instruction', zh: '非法指令' },
  SIGTRAP: { en: 'breakpoint trap', zh: '断点陷阱' },
  SIGABRT: { en: 'abort()', zh: 'abort() 中止' },
  SIGBUS: { en: 'bus error', zh: '总线错误' },
  SIGFPE: { en: 'arithmetic error', zh: '算术错误' },
  SIGKILL: { en: 'kill: cannot be caught, blocked or ignored', zh: '强制终止: 不能被捕获、阻塞或忽略' },
  SIGUSR1: { en: 'user-defined signal 1', zh: '用户自定义信号 1' },
  SIGSEGV: { en: 'invalid memory access', zh: '非法内存访问' },
  SIGUSR2: { en: 'user-defined signal 2', zh: '用户自定义信号 2' },
  SIGPIPE: { en: 'write to a pipe or socket nobody reads', zh: '写入无人读取的管道或套接字' },
  SIGALRM: { en: 'timer set by alarm()', zh: 'alarm() 设置的时钟' },
  SIGTERM: { en: 'polite request to terminate (kill\'s default)', zh: '请求终止 (kill 的默认信号)' },
  SIGSTKFLT: { en: 'stack fault (unused)', zh: '栈错误 (未使用)' },
  SIGCHLD: { en: 'a child stopped or exited', zh: '子进程暂停或退出' },
  SIGCONT: { en: 'continue if stopped', zh: '如果已暂停则继续' },
  SIGSTOP: { en: 'stop: cannot be caught, blocked or ignored', zh: '暂停: 不能被捕获、阻塞或忽略' },
  SIGTSTP: { en: 'stop from the keyboard (Ctrl-Z)', zh: '键盘暂停 (Ctrl-Z)' },
  SIGTTIN: { en: 'background read from the terminal', zh: '后台进程读终端' },
  SIGTTOU: { en: 'background write to the terminal', zh: '后台进程写终端' },
  SIGURG: { en: 'urgent data on a socket', zh: '套接字紧急数据' },
  SIGXCPU: { en: 'CPU time limit exceeded', zh: '超出 CPU 时间限制' },
  SIGXFSZ: { en: 'file size limit exceeded', zh: '超出文件大小限制' },
  SIGVTALRM: { en: 'virtual timer', zh: '虚拟时钟' },
  SIGPROF: { en: 'profiling timer', zh: '性能分析时钟' },
  SIGWINCH: { en: 'terminal window resized', zh: '终端窗口大小改变' },
  SIGIO: { en: 'I/O possible', zh: '可以进行 I/O' },
  SIGPWR: { en: 'power failure', zh: '电源故障' },
  SIGSYS: { en: 'bad system call', zh: '错误的系统调用' },
};

// The STAT string split into its letters, each with its meaning.
export function explainStat(stat) {
  const out = [];
  if (!stat) return out;
  const letters = [...stat];
  const state = letters.shift();
  out.push({ flag: state, text: STATES[state] || { en: 'unknown state', zh: '未知状态' } });
  for (const flag of letters) {
    out.push({ flag, text: FLAGS[flag] || { en: 'unknown flag', zh: '未知标志' } });
  }
  return out;
}
