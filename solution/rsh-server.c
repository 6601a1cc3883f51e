/*
 * rsh-server.c - the remote shell: runs each command a client sends with
 * /bin/sh -c and streams its stdout and stderr back as frames (rsh-proto.h).
 *
 * This file is how the server waits: options, the listening socket,
 * signals, and the poll() loop. What one connection does is in
 * rsh-server-client.c, a command in rsh-server-command.c (rsh-server.h).
 *
 * Every wait has a deadline: a command (--timeout), a started frame
 * (--frame-timeout), queued output the client does not take (--timeout),
 * and the brief drain after an error (DRAIN_MS).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "rsh-proto.h"
#include "rsh-server.h"

#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_FRAME_TIMEOUT_S 10
#define DEFAULT_MAX_CLIENTS 64

#define USAGE                                                                         \
    "usage: rsh-server [--host ADDR] [--port N] [--timeout SECONDS]\n"                \
    "                  [--frame-timeout SECONDS] [--max-clients N] [--quiet]\n"       \
    "Runs every command a client sends with /bin/sh -c, as this user.\n"              \
    "  --host ADDR              address to listen on (default 127.0.0.1)\n"           \
    "  --port N                 TCP port (default 8081; 0 picks a free port)\n"       \
    "  --timeout SECONDS        kill a command's process group after this long;\n"    \
    "                           drop a client that takes no output for this long\n"   \
    "                           (default 30)\n"                                        \
    "  --frame-timeout SECONDS  a frame must arrive whole within this once started\n" \
    "                           (default 10, or --timeout if that is smaller)\n"     \
    "  --max-clients N          connections served at once; more get a '!' frame\n"  \
    "                           (default 64)\n"                                        \
    "  --quiet                  log only problems, not every connection\n"

/* The signal handlers only set a flag and wake poll() through this pipe:
 * the self-pipe trick, so a SIGCHLD between two polls is never lost. */
static volatile sig_atomic_t stop_signal;
static int wake_pipe[2] = {-1, -1};

/* now_ms - a clock that never jumps: deadlines survive a change of date. */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ensure_std_fds - make sure 0, 1 and 2 are open, so that no pipe or socket
 * of ours lands on them (a pipe end that is already fd 1 would survive
 * dup2() with its close-on-exec flag still set). */
static void ensure_std_fds(void)
{
    int fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        ;
    if (fd > 2)
        close(fd);
}

/* ---------------------------------------------------------------- signals */

static void on_signal(int sig)
{
    int saved_errno = errno;
    char byte = (char)sig;
    ssize_t r;

    if (sig != SIGCHLD)
        stop_signal = sig;
    r = write(wake_pipe[1], &byte, 1); /* full pipe: a wake-up is pending anyway */
    (void)r;
    errno = saved_errno;
}

/* setup_signals - SIGCHLD, SIGTERM and SIGINT wake the loop; SIGPIPE is
 * ignored, so writing to a vanished client is an EPIPE error, not death. */
static int setup_signals(void)
{
    struct sigaction sa;

    if (pipe(wake_pipe) < 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (net_set_cloexec(NULL, wake_pipe[i]) < 0 || net_set_nonblock(NULL, wake_pipe[i], 1) < 0)
            return -1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART keeps a log line to stderr from failing with EINTR; poll()
     * is woken by the pipe whatever the flag. SA_NOCLDSTOP: only deaths. */
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigaction(SIGINT, &sa, NULL) < 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* drain_wake_pipe - empty the self-pipe; its bytes only meant "wake up". */
static void drain_wake_pipe(void)
{
    char buf[64];

    while (read(wake_pipe[0], buf, sizeof buf) > 0)
        ;
}

/*
 * reap_children - collect every child that has ended, without waiting.
 * One SIGCHLD can stand for several deaths, hence the loop. A child whose
 * client already left is reaped here too, and simply forgotten: that is
 * what keeps zombies from piling up.
 */
static void reap_children(struct server *s)
{
    pid_t pid;
    int wstatus;

    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0)
        client_reaped(s, pid, wstatus);
}

/* ---------------------------------------------------------- accepting */

/* accept_clients - take the connections waiting in the backlog. */
static void accept_clients(struct server *s)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        char peer[NET_ADDR_LEN];
        int fd = net_accept(NULL, s->listen_fd, peer, sizeof peer);

        if (fd >= 0) {
            client_open(s, fd, peer);
        } else if (errno == ECONNABORTED || errno == EPROTO) {
            continue; /* that connection died in the backlog; others may wait */
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else {
            /* Out of descriptors (EMFILE): the connection stays in the backlog
             * and the socket stays readable. Polling it again at once would
             * spin; pause, and let closing clients free descriptors. */
            log_problem("accept: %s; pausing for %d ms", strerror(errno), ACCEPT_PAUSE_MS);
            s->accept_paused_until = s->now + ACCEPT_PAUSE_MS;
            return;
        }
    }
}

/* ------------------------------------------------------------ event loop */

static void add_pollfd(struct server *s, int *n, int *index, int fd, short events)
{
    *index = *n;
    s->pfds[*n].fd = fd;
    s->pfds[*n].events = events;
    s->pfds[*n].revents = 0;
    (*n)++;
}

/*
 * build_pollfds - what to wait for this round. This is where backpressure
 * happens: a command's pipes are only watched while its client's queue is
 * below OUTPUT_BOUND, and a socket is only read while wanted.
 */
static int build_pollfds(struct server *s)
{
    int n = 0, unused;

    add_pollfd(s, &n, &unused, wake_pipe[0], POLLIN);
    s->pi_listen = -1;
    if (s->now >= s->accept_paused_until)
        add_pollfd(s, &n, &s->pi_listen, s->listen_fd, POLLIN);
    for (int i = 0; i < s->nslots; i++) {
        struct client *c = &s->clients[i];
        short events = 0;

        c->pi_sock = c->pi_out = c->pi_err = -1;
        if (c->state == CLIENT_FREE)
            continue;
        if (client_wants_input(c))
            events |= POLLIN;
        if (outq_len(&c->out) > 0)
            events |= POLLOUT;
        add_pollfd(s, &n, &c->pi_sock, c->fd, events); /* errors are reported even if events is 0 */
        if (c->busy && outq_len(&c->out) < OUTPUT_BOUND) {
            if (c->cmd.out_fd >= 0)
                add_pollfd(s, &n, &c->pi_out, c->cmd.out_fd, POLLIN);
            if (c->cmd.err_fd >= 0)
                add_pollfd(s, &n, &c->pi_err, c->cmd.err_fd, POLLIN);
        }
    }
    return n;
}

static void earliest(int64_t *t, int64_t deadline)
{
    if (deadline > 0 && (*t < 0 || deadline < *t))
        *t = deadline;
}

/* poll_timeout - milliseconds until the nearest deadline, or -1 for none. */
static int poll_timeout(const struct server *s)
{
    int64_t t = -1;

    if (s->now < s->accept_paused_until)
        earliest(&t, s->accept_paused_until);
    for (int i = 0; i < s->nslots; i++) {
        const struct client *c = &s->clients[i];
        if (c->state == CLIENT_FREE)
            continue;
        if (c->state == CLIENT_DROPPED)
            return 0; /* dropped while being opened: close it now */
        if (c->busy && !c->cmd.timed_out)
            earliest(&t, c->cmd.deadline);
        earliest(&t, c->frame_deadline);
        earliest(&t, c->stall_deadline);
        if (c->state == CLIENT_DRAINING)
            earliest(&t, c->drain_deadline);
    }
    if (t < 0)
        return -1;
    if (t <= s->now)
        return 0;
    return t - s->now > 60000 ? 60000 : (int)(t - s->now);
}

/* serve - the event loop: wait, then handle what is ready. Until a signal. */
static int serve(struct server *s)
{
    while (!stop_signal) {
        int n, timeout;

        s->now = now_ms();
        n = build_pollfds(s);
        timeout = poll_timeout(s);
        if (poll(s->pfds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
            log_problem("poll: %s", strerror(errno));
            return -1;
        }
        s->now = now_ms();
        if (s->pfds[0].revents) {
            drain_wake_pipe();
            reap_children(s);
        }
        for (int i = 0; i < s->nslots; i++)
            if (s->clients[i].state != CLIENT_FREE)
                client_handle_events(s, &s->clients[i]);
        /* after the clients, so the slots of those that just left are free */
        if (s->pi_listen >= 0 && s->pfds[s->pi_listen].revents)
            accept_clients(s);
    }
    return 0;
}

/* shutdown_server - on SIGTERM/SIGINT: kill every command, close every
 * client, and reap the shells (SIGKILL cannot be ignored: they end now). */
static void shutdown_server(struct server *s)
{
    log_info("caught signal %d; stopping", (int)stop_signal);
    for (int i = 0; i < s->nslots; i++)
        if (s->clients[i].state != CLIENT_FREE)
            client_close(s, &s->clients[i], "closed: server stopping");
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    close(s->listen_fd);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    free(s->clients);
    free(s->pfds);
}

/* ------------------------------------------------------------- arguments */

static void usage_exit(int status)
{
    fputs(USAGE, status == 0 ? stdout : stderr);
    exit(status);
}

/* option_value - the value of "--name VALUE" or "--name=VALUE", or NULL if
 * argv[*i] is not that option. A missing value is a usage error. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "rsh-server: %s needs a value\n", name);
        usage_exit(2);
    }
    return argv[++*i];
}

static int number(const char *name, const char *text, long min, long max)
{
    long v;

    if (parse_long(text, min, max, &v) < 0) {
        fprintf(stderr, "rsh-server: %s: '%s' is not a number from %ld to %ld\n", name, text,
                min, max);
        usage_exit(2);
    }
    return (int)v;
}

static int64_t seconds(const char *name, const char *text)
{
    int64_t ms;

    if (parse_ms(text, 86400.0 * 365, &ms) < 0) {
        fprintf(stderr, "rsh-server: %s: '%s' is not a positive number of seconds\n", name,
                text);
        usage_exit(2);
    }
    return ms;
}

static struct options parse_args(int argc, char **argv)
{
    struct options o = {RSH_DEFAULT_HOST, RSH_DEFAULT_PORT, DEFAULT_TIMEOUT_S * 1000, -1,
                        DEFAULT_MAX_CLIENTS, 0};
    const char *v;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            usage_exit(0);
        else if (strcmp(argv[i], "--quiet") == 0)
            o.quiet = 1;
        else if ((v = option_value(argc, argv, &i, "--host")) != NULL)
            o.host = v;
        else if ((v = option_value(argc, argv, &i, "--port")) != NULL)
            o.port = number("--port", v, 0, 65535);
        else if ((v = option_value(argc, argv, &i, "--timeout")) != NULL)
            o.timeout_ms = seconds("--timeout", v);
        else if ((v = option_value(argc, argv, &i, "--frame-timeout")) != NULL)
            o.frame_timeout_ms = seconds("--frame-timeout", v);
        else if ((v = option_value(argc, argv, &i, "--max-clients")) != NULL)
            o.max_clients = number("--max-clients", v, 1, 100000);
        else {
            fprintf(stderr, "rsh-server: unknown argument '%s'\n", argv[i]);
            usage_exit(2);
        }
    }
    if (o.frame_timeout_ms < 0) {
        o.frame_timeout_ms = DEFAULT_FRAME_TIMEOUT_S * 1000;
        if (o.timeout_ms < o.frame_timeout_ms)
            o.frame_timeout_ms = o.timeout_ms;
    }
    return o;
}

/* open_listener - the non-blocking listening socket; prints where it listens. */
static int open_listener(struct server *s)
{
    char err[NET_ERR_LEN], addr[NET_ADDR_LEN];
    int loopback;

    s->listen_fd = net_listen(err, s->opt.host, s->opt.port, SOMAXCONN);
    /* Non-blocking: a client that connects and resets before accept() must
     * not leave accept() waiting for the next one. */
    if (s->listen_fd < 0 || net_set_cloexec(err, s->listen_fd) < 0 ||
        net_set_nonblock(err, s->listen_fd, 1) < 0 ||
        net_local_name(err, s->listen_fd, addr, sizeof addr, &loopback) < 0) {
        log_problem("%s", err);
        return -1;
    }
    if (!loopback)
        log_problem("warning: listening on %s, not loopback: anyone who can reach it "
                    "can run commands as this user",
                    addr);
    printf("listening on %s\n", addr);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct server s;
    int rc;

    memset(&s, 0, sizeof s);
    s.opt = parse_args(argc, argv);
    log_set_quiet(s.opt.quiet);
    ensure_std_fds();
    if (setup_signals() < 0) {
        log_problem("signals: %s", strerror(errno));
        return 1;
    }
    s.nslots = s.opt.max_clients + REJECT_SLOTS;
    s.clients = calloc((size_t)s.nslots, sizeof *s.clients);
    s.pfds = calloc(2 + 3 * (size_t)s.nslots, sizeof *s.pfds);
    if (s.clients == NULL || s.pfds == NULL) {
        log_problem("out of memory");
        return 1;
    }
    if (open_listener(&s) < 0)
        return 1;
    rc = serve(&s);
    shutdown_server(&s);
    return rc == 0 ? 0 : 1;
}
