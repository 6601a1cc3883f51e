/*
 * rsh-server-command.c - a command: /bin/sh -c TEXT in a process group of
 * its own, stdin from /dev/null, stdout and stderr on two pipes whose read
 * ends are ours and non-blocking (see rsh-server.h).
 *
 * On Linux the shell is started with vfork() and exec(), so that the child
 * can ask, before exec, to be killed when the server dies
 * (PR_SET_PDEATHSIG): posix_spawn() has no way to say that. Elsewhere it is
 * posix_spawn(). On Linux the server also holds a pidfd for the shell
 * (pidfd_open, Linux 5.3): poll() says when the shell has ended, and one
 * waitpid() collects it - no signal, no self-pipe, no loop of waitpid()
 * calls of which the last always fails.
 */
#ifdef __linux__
#define _GNU_SOURCE /* pipe2(), vfork(), syscall(): Linux calls outside POSIX */
#endif
#include "rsh-server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

/* wire_status - waitpid()'s status as the 'X' frame carries it. */
int32_t wire_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return -WTERMSIG(wstatus);
    return 255;
}

static void close_pair(int fds[2])
{
    close(fds[0]);
    close(fds[1]);
}

#ifdef __linux__

/* make_pipe - one system call: both ends close-on-exec (each shell would
 * otherwise inherit every other client's pipes) and non-blocking. O_NONBLOCK
 * belongs to the open file description, and the two ends of a pipe are two
 * descriptions: the child makes its write end blocking again before exec
 * (a command's stdout must block when full), and our read end stays as it is. */
static int make_pipe(int fds[2])
{
    return pipe2(fds, O_CLOEXEC | O_NONBLOCK);
}

/* child_exec - in the vforked child, until exec: only system calls, on the
 * server's memory, and nothing of it changed (see spawn_shell). */
__attribute__((noreturn)) static void child_exec(char **argv, int out_fd, int err_fd,
                                                 pid_t server)
{
    extern char **environ;
    static const char msg[] = "rsh-server: cannot run /bin/sh\n";
    int null_fd;

    /* A process group of its own: one kill(-pid) reaches the shell and all
     * it starts, and nothing of ours; a terminal's ^C no longer reaches it. */
    setpgid(0, 0);
    /* Killed when the server dies, even by SIGKILL. If the server died
     * before this line, the signal will never come: check by hand. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != server)
        _exit(127);
    /* Stdin from /dev/null: a command that reads stdin gets EOF at once. */
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(127);
    (void)fcntl(1, F_SETFL, 0); /* blocking again: see make_pipe */
    (void)fcntl(2, F_SETFL, 0);
    /* The server ignores SIGPIPE, and an ignored signal stays ignored
     * across exec: give the command back the SIGPIPE that ends `yes | head`. */
    signal(SIGPIPE, SIG_DFL);
    execve("/bin/sh", argv, environ);
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
}

/*
 * spawn_shell - start /bin/sh -c text on the given pipe ends. Returns 0 or an errno.
 *
 * vfork(), not fork(): the child borrows our memory until it calls exec,
 * and we wait meanwhile. fork() would copy our page tables and then pay a
 * page fault for each page either side writes: about 15% more time per
 * command (harness/bench_rsh.py). The price is care in the child: it only
 * makes system calls and never returns here; its signal handlers are its
 * own (vfork shares memory, not the handler table), and a signal that
 * reaches it before exec is one the server's group got too (a terminal's ^C).
 */
static int spawn_shell(pid_t *pid, char **argv, int out_fd, int err_fd)
{
    static pid_t server; /* our pid, asked once */

    if (server == 0)
        server = getpid();
    *pid = vfork();
    if (*pid < 0)
        return errno;
    if (*pid == 0)
        child_exec(argv, out_fd, err_fd, server);
    return 0;
}

/* open_pidfd - a descriptor that poll() reports readable once pid has ended,
 * or -1 (a kernel before 5.3, or no descriptor left): then SIGCHLD tells us. */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

#else /* not Linux */

/* make_pipe - pipe() and a flag on each end: the read end is ours, close-on-
 * exec and non-blocking; the write end goes to one child, which closes it
 * (spawn_shell), and we close our copy before any other spawn. */
static int make_pipe(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
        int saved = errno;
        close_pair(fds);
        errno = saved;
        return -1;
    }
    return 0;
}

/*
 * spawn_shell - posix_spawn() is fork() and exec() in one call, with the
 * child's set-up declared up front; it is also faster than fork() in a
 * server, since nothing of our memory is copied. Returns 0, or an errno.
 */
static int spawn_shell(pid_t *pid, char **argv, int out_fd, int err_fd)
{
    extern char **environ;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t defaults;
    int rc;

    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    posix_spawn_file_actions_addclose(&actions, out_fd);
    posix_spawn_file_actions_addclose(&actions, err_fd);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0); /* a process group of its own */
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE); /* ignored by us; the command gets it back */
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawn(pid, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

static int open_pidfd(pid_t pid)
{
    (void)pid;
    return -1;
}

#endif

/*
 * command_start - start a shell for text, its output on two pipes. Returns
 * 0, or -1 with errno (no pipe, no process, no shell); then nothing is left
 * to clean up. cmd->pidfd is -1 where the system has none.
 */
int command_start(struct command *cmd, const char *text, int64_t deadline)
{
    /* "--": a command that starts with '-' is a command, not an option */
    char *argv[] = {"sh", "-c", "--", (char *)text, NULL};
    int out[2], err[2], rc;
    pid_t pid;

    if (make_pipe(out) < 0)
        return -1;
    if (make_pipe(err) < 0) {
        close_pair(out);
        return -1;
    }
    rc = spawn_shell(&pid, argv, out[1], err[1]);
    /* Close our copies of the write ends: EOF on a pipe means every writer
     * has closed it, and we would otherwise be one of the writers. */
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        close(out[0]);
        close(err[0]);
        errno = rc;
        return -1;
    }
    memset(cmd, 0, sizeof *cmd);
    cmd->pid = pid;
    cmd->pidfd = open_pidfd(pid);
    cmd->out_fd = out[0];
    cmd->err_fd = err[0];
    cmd->deadline = deadline;
    return 0;
}

static void command_close_pipes(struct command *cmd)
{
    if (cmd->out_fd >= 0)
        close(cmd->out_fd);
    if (cmd->err_fd >= 0)
        close(cmd->err_fd);
    cmd->out_fd = cmd->err_fd = -1;
}

void command_close_pidfd(struct command *cmd)
{
    if (cmd->pidfd >= 0)
        close(cmd->pidfd);
    cmd->pidfd = -1;
}

/*
 * command_kill - SIGKILL the command's whole process group and stop
 * reading its output. The shell is reaped later, like any other child: we
 * never wait here. (If the shell is already reaped while its pipes are
 * still open, a background job of its group holds them, and the group id
 * still names that group.) A command that never started has no pid: there
 * is nothing to kill, and kill(0) or kill(-0) would hit our own group.
 */
void command_kill(struct command *cmd)
{
    if (cmd->pid > 1 && (!cmd->reaped || cmd->out_fd >= 0 || cmd->err_fd >= 0)) {
        /* A child made by fork() (valgrind turns vfork into fork) may not
         * have made its group yet: then the shell alone is all there is. */
        if (kill(-cmd->pid, SIGKILL) < 0 && errno == ESRCH && !cmd->reaped)
            kill(cmd->pid, SIGKILL);
    }
    command_close_pipes(cmd);
}

/* command_reap - the pidfd said the shell has ended: collect its status.
 * Returns 1 once it is reaped (by us now, or before by waitpid(-1)). */
int command_reap(struct command *cmd)
{
    int wstatus;
    pid_t r;

    if (!cmd->reaped) {
        do
            r = waitpid(cmd->pid, &wstatus, WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            return 0;
        cmd->reaped = 1;
        cmd->status = r == cmd->pid ? wire_status(wstatus) : 255;
    }
    command_close_pidfd(cmd);
    return 1;
}

/* command_finished - both pipes at EOF and the shell reaped: 'X' may go. */
int command_finished(const struct command *cmd)
{
    return cmd->out_fd < 0 && cmd->err_fd < 0 && cmd->reaped;
}
