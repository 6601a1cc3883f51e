/*
 * Demo 10, the stdout/stderr deadlock: the course's server reads the
 * command's stdout to EOF, then its stderr (obj.stdout.read(), then
 * obj.stderr.read(), as demo_run_shell does). A command that writes more to
 * stderr than the pipe holds (64 KiB on Linux) blocks in write(); it never
 * gets to close its stdout, and the server waits for ever. A watchdog shows it.
 */
#define _GNU_SOURCE /* F_GETPIPE_SZ, on Linux */
#include "demo.h"
#include "shell.h"

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
#define WATCHDOG_S 10 /* give up (no deadlock after all) after this long */

/* What the watchdog saw when it fired. */
struct stuck {
    long stdout_read; /* bytes read from the command's stdout */
    int idle_s;       /* seconds without a byte of stdout */
    int queued;       /* bytes waiting in its stderr pipe */
    int capacity;     /* the pipe's size, or -1 where the system does not say */
};

static void read_stdout_until_stuck(pid_t pid, int out_fd, int err_fd, struct stuck *st);
static void report(pid_t pid, const struct stuck *st);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, DEMO_RUNS_COMMANDS, 0);
    int listener = demo_listen(&a);
    int conn = demo_accept(listener, 1);
    struct trace t = demo_trace(1, &a);
    char cmd[1025];
    int out_fd, err_fd;
    struct stuck st;

    size_t n = demo_recv(&t, conn, cmd, 1024); /* cmd = conn.recv(1024) */
    cmd[n] = '\0';
    pid_t pid = demo_start_shell(cmd, &out_fd, &err_fd); /* Popen(cmd, shell=True, ...) */
    read_stdout_until_stuck(pid, out_fd, err_fd, &st); /* obj.stdout.read(): to EOF, first */
    report(pid, &st);
    demo_send(&t, conn, STUCK, strlen(STUCK)); /* instead of an answer that never comes */
    return 0;
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

/*
 * read_stdout_until_stuck - read stdout as the course does, to EOF before
 * any of stderr; a watchdog checks every second without stdout whether the
 * command is alive with its stderr pipe full: stuck, so we stop waiting.
 */
static void read_stdout_until_stuck(pid_t pid, int out_fd, int err_fd, struct stuck *st)
{
    struct pollfd p = {out_fd, POLLIN, 0};
    char buf[4096];

    memset(st, 0, sizeof *st);
    st->capacity = -1;
    for (;;) {
        int ready = poll(&p, 1, 1000); /* the watchdog: a second without stdout */
        if (ready < 0 && errno != EINTR)
            demo_die("poll: %s", strerror(errno));
        if (ready > 0) {
            ssize_t k = read(out_fd, buf, sizeof buf);
            if (k <= 0)
                demo_die("stdout ended (%ld bytes): no deadlock this time", st->stdout_read);
            st->stdout_read += k, st->idle_s = 0;
        } else if (ready == 0) {
            st->idle_s++;
            if (waitpid(pid, NULL, WNOHANG) == 0 && pipe_full(err_fd, &st->queued, &st->capacity))
                return; /* alive, silent on stdout, its stderr pipe full: stuck */
            if (st->idle_s == WATCHDOG_S)
                demo_die("%d s without stdout, but the command is not stuck on stderr",
                         WATCHDOG_S);
        }
    }
}

/* report - what the watchdog saw, then kill the command (a real server would hang here). */
static void report(pid_t pid, const struct stuck *st)
{
    int status;

    demo_say("[watchdog] %d s without stdout, and the command has not ended:", st->idle_s);
    demo_fact("stdout_bytes_read", "%ld", st->stdout_read);
    demo_fact("child_alive", "%d", 1); /* waitpid(WNOHANG) found it running */
    demo_fact("stderr_bytes_queued", "%d", st->queued);
    if (st->capacity >= 0)
        demo_fact("stderr_pipe_capacity", "%d", st->capacity);
    else
        demo_say("pipe capacity: not available on this system (F_GETPIPE_SZ is Linux-only)");
    if (st->capacity >= 0)
        demo_say("Its stderr pipe is full, so the command waits in write() for someone to read "
                 "stderr;");
    else
        demo_say("Its stderr pipe holds bytes nobody reads, so the command waits in write() "
                 "for someone to read stderr;");
    demo_say("this server reads stderr only after stdout ends, which the command never gets "
             "to. Neither can go on.");
    kill(-pid, SIGKILL); /* the watchdog's way out */
    waitpid(pid, &status, 0); /* reap it: no zombie left behind */
    demo_fact("child_killed_by_signal", "%d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
