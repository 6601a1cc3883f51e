/*
 * Demo 10, the stdout/stderr deadlock: the course's server reads the
 * command's stdout to EOF, then its stderr (obj.stdout.read(), then
 * obj.stderr.read(), as demo_run_shell does). A command that writes more to
 * stderr than the pipe holds (64 KiB on Linux) blocks in write(); it never
 * gets to close its stdout, and the server waits for ever. A watchdog shows it.
 */
#define _GNU_SOURCE /* F_GETPIPE_SZ, on Linux */
#include "demo.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#define USAGE "usage: 10-pipe-deadlock-server [--host ADDR] [--port N] [--full]\n" \
              "  runs the command it receives with /bin/sh -c: keep it on 127.0.0.1"
#define STUCK "the server killed the command: it was blocked writing to its full stderr " \
              "pipe while the server waited for its stdout to end\n"

static void fact(const char *name, long value)
{
    printf("server | fact | %s = %ld\n", name, value);
    fflush(stdout);
}

/* start - Popen(cmd, shell=True, stdout=PIPE, stderr=PIPE), in a process group of its own. */
static pid_t start(const char *cmd, int *out_fd, int *err_fd)
{
    int out[2], err[2];
    fflush(stdout); /* the child must not print our buffered lines again */
    if (pipe(out) < 0 || pipe(err) < 0)
        demo_die("server", "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        demo_die("server", "fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0); /* one kill() then reaches the shell and what it starts */
        dup2(out[1], 1), dup2(err[1], 2);
        close(out[0]), close(out[1]), close(err[0]), close(err[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(out[1]), close(err[1]);
    *out_fd = out[0], *err_fd = err[0];
    return pid;
}

/* pipe_full - bytes waiting in the pipe (FIONREAD) == its capacity: a writer now blocks. */
static int pipe_full(int fd, int *queued, int *capacity)
{
    ioctl(fd, FIONREAD, queued);
#ifdef F_GETPIPE_SZ
    *capacity = fcntl(fd, F_GETPIPE_SZ);
    return *queued == *capacity;
#else
    *capacity = -1; /* unknown: take a queue of 4 KiB or more as full */
    return *queued >= 4096;
#endif
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int conn = demo_accept(listener, 1);
    struct trace t = demo_trace("server", 1, &a);
    char cmd[1025], buf[4096];
    int out_fd, err_fd, queued = 0, capacity = -1, status;
    long got = 0; /* bytes read from the command's stdout */

    size_t n = demo_recv(&t, conn, cmd, 1024); /* cmd = conn.recv(1024) */
    cmd[n] = '\0';
    pid_t pid = start(cmd, &out_fd, &err_fd);
    struct pollfd p = {out_fd, POLLIN, 0};
    int idle = 0; /* seconds without a byte of stdout */
    for (;;) { /* obj.stdout.read(): to EOF, before any of stderr */
        int ready = poll(&p, 1, 1000); /* the watchdog: a second without stdout */
        if (ready < 0 && errno != EINTR)
            demo_die("server", "poll: %s", strerror(errno));
        if (ready > 0) {
            ssize_t k = read(out_fd, buf, sizeof buf);
            if (k <= 0)
                demo_die("server", "stdout ended (%ld bytes): no deadlock this time", got);
            got += k, idle = 0;
        } else if (ready == 0) {
            idle++;
            if (waitpid(pid, NULL, WNOHANG) == 0 && pipe_full(err_fd, &queued, &capacity))
                break; /* alive, silent on stdout, its stderr pipe full: stuck */
            if (idle == 10)
                demo_die("server", "10 s without stdout, but the command is not stuck on stderr");
        }
    }
    demo_say("server", "[watchdog] %d s without stdout, and the command has not ended:", idle);
    fact("stdout_bytes_read", got);
    fact("child_alive", 1); /* waitpid(WNOHANG) found it running */
    fact("stderr_bytes_queued", queued);
    if (capacity >= 0)
        fact("stderr_pipe_capacity", capacity);
    else
        demo_say("server", "pipe capacity: not available on this system (F_GETPIPE_SZ is Linux-only)");
    demo_say("server", "Its stderr pipe %s, so the command waits in write() for someone to read "
                       "stderr; this server reads stderr only after stdout ends, which the "
                       "command never gets to. Neither can go on.",
             capacity >= 0 ? "is full" : "holds bytes nobody reads");
    kill(-pid, SIGKILL); /* the watchdog's way out: a real server would hang here */
    waitpid(pid, &status, 0); /* reap it: no zombie left behind */
    fact("child_killed_by_signal", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    demo_send(&t, conn, STUCK, strlen(STUCK)); /* instead of an answer that never comes */
    return 0;
}
