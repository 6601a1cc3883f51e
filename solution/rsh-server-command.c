/*
 * rsh-server-command.c - a command: /bin/sh -c TEXT in a process group of
 * its own, stdin from /dev/null, stdout and stderr on two non-blocking
 * pipes (see rsh-server.h).
 */
#include "rsh-server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* wire_status - waitpid()'s status as the 'X' frame carries it. */
int32_t wire_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return -WTERMSIG(wstatus);
    return 255;
}

/* make_pipe - a pipe with both ends close-on-exec (pipe2() is Linux-only;
 * one thread, so no fork() can slip in between pipe() and fcntl()). Without
 * close-on-exec, each shell would inherit every other client's pipes. */
static int make_pipe(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    if (net_set_cloexec(NULL, fds[0]) < 0 || net_set_cloexec(NULL, fds[1]) < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
        return -1;
    }
    return 0;
}

/*
 * spawn_shell - start /bin/sh -c text with stdout and stderr on the given
 * pipe ends. posix_spawn() is fork() and exec() in one call, with the
 * child's set-up declared up front; it is also faster than fork() in a
 * server, since nothing of our memory is copied. Returns 0, or an errno.
 */
static int spawn_shell(pid_t *pid, const char *text, int out_fd, int err_fd)
{
    extern char **environ;
    /* "--": a command that starts with '-' is a command, not an option */
    char *argv[] = {"sh", "-c", "--", (char *)text, NULL};
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t defaults;
    int rc;

    posix_spawn_file_actions_init(&actions);
    /* Stdin from /dev/null: a command that reads stdin gets EOF at once
     * instead of waiting forever for input that cannot come. */
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    posix_spawnattr_init(&attr);
    /* A process group of its own (group id = its pid), set before the shell
     * starts: one kill(-pid) then reaches the shell and everything it
     * started (pipelines, background jobs), and nothing of ours. */
    posix_spawnattr_setpgroup(&attr, 0);
    /* An ignored signal stays ignored across exec: give the command back the
     * SIGPIPE that ends `yes | head` and every other early-closed pipeline. */
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawn(pid, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

static void close_pair(int fds[2])
{
    close(fds[0]);
    close(fds[1]);
}

/*
 * command_start - start a shell for text, its output on two non-blocking
 * pipes. Returns 0, or -1 with errno (pipe, fcntl or spawn failed).
 */
int command_start(struct command *cmd, const char *text, int64_t deadline)
{
    int out[2], err[2], rc;
    pid_t pid;

    if (make_pipe(out) < 0)
        return -1;
    if (make_pipe(err) < 0) {
        close_pair(out);
        return -1;
    }
    /* The read ends are ours alone: non-blocking, so one quiet command
     * never stalls the loop. Set before the spawn, so a failure costs no
     * process to clean up. */
    if (net_set_nonblock(NULL, out[0], 1) < 0 || net_set_nonblock(NULL, err[0], 1) < 0) {
        close_pair(out);
        close_pair(err);
        return -1;
    }
    rc = spawn_shell(&pid, text, out[1], err[1]);
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

/*
 * command_kill - SIGKILL the command's whole process group and stop
 * reading its output. The shell is reaped later, like any other child: we
 * never wait here. (If the shell is already reaped while its pipes are
 * still open, a background job of its group holds them, and the group id
 * still names that group.)
 */
void command_kill(struct command *cmd)
{
    if (cmd->pid > 0 && (!cmd->reaped || cmd->out_fd >= 0 || cmd->err_fd >= 0))
        kill(-cmd->pid, SIGKILL);
    command_close_pipes(cmd);
}

/* command_finished - both pipes at EOF and the shell reaped: 'X' may go. */
int command_finished(const struct command *cmd)
{
    return cmd->out_fd < 0 && cmd->err_fd < 0 && cmd->reaped;
}
