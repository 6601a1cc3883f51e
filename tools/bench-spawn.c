/*
 * bench-spawn.c - the floor under the remote shell's cost per command: start
 * /bin/sh -c COMMAND N times, one after another, exactly as rsh-server starts
 * a command, with no network at all.
 *
 * Each time: two pipes (close-on-exec, read ends non-blocking), posix_spawn
 * with stdin from /dev/null, stdout and stderr on the pipes, a process group
 * of its own and SIGPIPE back to its default; then poll() and read() both
 * pipes to EOF, and waitpid(). Whatever the remote shell costs above this is
 * the price of the network, the framing and the server's own loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "net.h"
#include "bench-clock.h"

#define CHUNK (64 * 1024) /* one read() from a pipe, as rsh-server's CHUNK_SIZE */

#define USAGE                                                                   \
    "usage: bench-spawn [--count N] [COMMAND]\n"                                \
    "Runs /bin/sh -c COMMAND (default: true) N times (default 300), one after\n" \
    "another, as rsh-server runs a command: posix_spawn, stdin from /dev/null,\n" \
    "stdout and stderr on two pipes read to EOF, its own process group; then\n"  \
    "waitpid. Prints the count, the seconds, the bytes of output read and\n"     \
    "its own CPU time (user+sys, without the commands').\n"

extern char **environ;

/* make_pipe - a pipe, both ends close-on-exec, the read end non-blocking
 * (as rsh-server makes them). Returns 0, or -1 with errno. */
static int make_pipe(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    if (net_set_cloexec(NULL, fds[0]) < 0 || net_set_cloexec(NULL, fds[1]) < 0 ||
        net_set_nonblock(NULL, fds[0], 1) < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
        return -1;
    }
    return 0;
}

/* spawn_shell - /bin/sh -c text, stdout on out_fd, stderr on err_fd.
 * Returns 0, or an errno value (as posix_spawn does). */
static int spawn_shell(pid_t *pid, const char *text, int out_fd, int err_fd)
{
    char *argv[] = {"sh", "-c", "--", (char *)text, NULL};
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t defaults;
    int rc;

    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawn(pid, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

/* drain - read both pipes to EOF, waiting in poll() as the server does.
 * Adds the bytes read to *bytes. Returns 0, or -1 with errno. */
static int drain(int out_fd, int err_fd, long long *bytes)
{
    static char buf[CHUNK];
    int fds[2] = {out_fd, err_fd};

    while (fds[0] >= 0 || fds[1] >= 0) {
        struct pollfd pfd[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};

        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i] < 0 || pfd[i].revents == 0)
                continue;
            ssize_t n = read(fds[i], buf, sizeof buf);
            if (n > 0)
                *bytes += n;
            else if (n == 0)
                fds[i] = -1; /* EOF: every writer (the shell, its children) closed it */
            else if (errno != EAGAIN && errno != EINTR)
                return -1;
        }
    }
    return 0;
}

/* run_once - one command, start to reaped. Returns 0, or -1 with errno. */
static int run_once(const char *text, long long *bytes)
{
    int out[2], err[2], rc, status;
    pid_t pid;

    if (make_pipe(out) < 0)
        return -1;
    if (make_pipe(err) < 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    rc = spawn_shell(&pid, text, out[1], err[1]);
    close(out[1]); /* ours closed: EOF comes when the shell's copies close */
    close(err[1]);
    if (rc == 0 && drain(out[0], err[0], bytes) < 0)
        rc = errno;
    close(out[0]);
    close(err[0]);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

/* cpu_seconds - user + system time of a getrusage() result. */
static double cpu_seconds(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    const char *text = "true";
    long count = 300;
    long long bytes = 0;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            if (parse_long(argv[++i], 1, 100000000, &count) < 0) {
                fprintf(stderr, "bench-spawn: --count: '%s' is not a count\n", argv[i]);
                return 2;
            }
        } else if (argv[i][0] != '-' && i == argc - 1) {
            text = argv[i];
        } else {
            fprintf(stderr, "bench-spawn: bad argument '%s'\n%s", argv[i], USAGE);
            return 2;
        }
    }
    double start = now_s();
    for (long n = 0; n < count; n++) {
        if (run_once(text, &bytes) < 0) {
            fprintf(stderr, "bench-spawn: command %ld: %s\n", n + 1, strerror(errno));
            return 1;
        }
    }
    double seconds = now_s() - start;
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    printf("bench-spawn | count %ld | seconds %.6f | output_bytes %lld | self_cpu_s %.6f\n",
           count, seconds, bytes, cpu_seconds(&self));
    return 0;
}
