/*
 * rsh-server.c - the remote shell: runs each command a client sends with
 * /bin/sh -c and streams its stdout and stderr back as frames (rsh-proto.h).
 *
 * This file is how the server waits: the listening socket, the token,
 * signals, and the poll() loop. The command line is in
 * rsh-server-options.c, what one connection does in rsh-server-client.c,
 * its answers in rsh-server-answer.c, a command in rsh-server-command.c
 * (rsh-server.h).
 *
 * Every wait has a deadline: a started frame and the token
 * (--frame-timeout), a connection with nothing to do (--idle-timeout), a
 * command and queued output the client does not take (--timeout, if given),
 * background jobs after the shell's exit (--linger), and the brief drain
 * after an error (DRAIN_MS).
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

#include "rsh-proto.h"
#include "rsh-server.h"

/* The signal handlers only set a flag and wake poll() through this pipe:
 * the self-pipe trick, so a signal between two polls is never lost. */
static volatile sig_atomic_t stop_signal;
/* SIGCHLD needs to wake us only for a child without a pidfd (there poll()
 * itself says when a child ends): then the handler writes nothing. */
static volatile sig_atomic_t sigchld_wakes;
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
    else if (!sigchld_wakes)
        return;
    r = write(wake_pipe[1], &byte, 1); /* full pipe: a wake-up is pending anyway */
    (void)r;
    errno = saved_errno;
}

/* setup_signals - SIGCHLD wakes the loop; SIGTERM, SIGINT, SIGHUP (the
 * terminal closed) and SIGQUIT stop it cleanly; SIGPIPE is ignored, so
 * writing to a vanished client is an EPIPE error, not death. */
static int setup_signals(void)
{
    static const int stops[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
    struct sigaction sa;

    if (pipe(wake_pipe) < 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (net_set_cloexec(NULL, wake_pipe[i]) < 0 || net_set_nonblock(NULL, wake_pipe[i], 1) < 0)
            return -1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART keeps other system calls from failing with EINTR; poll()
     * is woken by the pipe whatever the flag. SA_NOCLDSTOP: only deaths. */
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &sa, NULL) < 0)
        return -1;
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
        if (sigaction(stops[i], &sa, NULL) < 0)
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
 * reap_children - collect every child that has ended and has no pidfd, or
 * whose client already left, without waiting. One SIGCHLD can stand for
 * several deaths, hence the loop. A child whose client left is reaped here
 * and simply forgotten: that is what keeps zombies from piling up.
 */
static void reap_children(struct server *s)
{
    pid_t pid;
    int wstatus;

    s->reap_pending = 0;
    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0 ||
           (pid < 0 && errno == EINTR))
        if (pid > 0)
            client_reaped(s, pid, wstatus);
}

/* ---------------------------------------------------------- accepting */

/* can_accept - is there a descriptor budget for one more connection? A
 * client under the cap may need FDS_PER_CLIENT once its command runs; one
 * over the cap only its socket, to be told "busy". Without the budget the
 * connection waits in the backlog: never accepted, then unable to run. */
static int can_accept(const struct server *s)
{
    int refused = s->nconns - s->admitted;
    int need = s->admitted < s->opt.max_clients ? FDS_PER_CLIENT : 1;

    return s->fds_base + FDS_TO_SPAWN + FDS_PER_CLIENT * s->admitted + refused + need <=
           s->fd_limit;
}

/* accept_clients - take the connections waiting in the backlog. */
static void accept_clients(struct server *s)
{
    for (int i = 0; i < ACCEPT_BATCH && can_accept(s); i++) {
        char peer[NET_ADDR_LEN];
        int fd = net_accept(NULL, s->listen_fd, peer, sizeof peer);

        if (fd >= 0) {
            client_open(s, fd, peer);
        } else if (errno == ECONNABORTED || errno == EPROTO) {
            continue; /* that connection died in the backlog; others may wait */
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else {
            /* Out of descriptors all the same (EMFILE: some were inherited):
             * the connection stays in the backlog and the socket stays
             * readable. Polling it again at once would spin; pause. */
            log_problem("accept: %s; pausing for %d ms", strerror(errno), ACCEPT_PAUSE_MS);
            s->accept_paused_until = s->now + ACCEPT_PAUSE_MS;
            return;
        }
    }
}

/* ------------------------------------------------------------ event loop */

static int add_pollfd(struct server *s, int *n, int fd, short events)
{
    s->pfds[*n].fd = fd;
    s->pfds[*n].events = events;
    s->pfds[*n].revents = 0;
    return (*n)++;
}

/* client_pollfds - what to wait for on one client. This is where
 * backpressure happens: a command's pipes are only watched while its
 * client's queue is below OUTPUT_BOUND, and a socket is only read while wanted. */
static void client_pollfds(struct server *s, struct client *c, int *n)
{
    short events = 0;

    c->pi_sock = c->pi_out = c->pi_err = c->pi_pid = -1;
    if (client_wants_input(c))
        events |= POLLIN;
    if (outq_len(&c->out) > 0)
        events |= POLLOUT;
    c->pi_sock = add_pollfd(s, n, c->fd, events); /* errors are reported even if events is 0 */
    if (!c->busy)
        return;
    if (outq_len(&c->out) < OUTPUT_BOUND) {
        if (c->cmd.out_fd >= 0)
            c->pi_out = add_pollfd(s, n, c->cmd.out_fd, POLLIN);
        if (c->cmd.err_fd >= 0)
            c->pi_err = add_pollfd(s, n, c->cmd.err_fd, POLLIN);
    }
    if (c->cmd.pidfd >= 0 && !c->cmd.reaped)
        c->pi_pid = add_pollfd(s, n, c->cmd.pidfd, POLLIN);
}

/* build_pollfds - what to wait for this round: the open connections only,
 * however many --max-clients allows. Returns the count, or -1 (no memory). */
static int build_pollfds(struct server *s)
{
    size_t want = 3 + (size_t)FDS_PER_CLIENT * (size_t)s->nconns;
    int n = 0;

    if (want > s->pfds_cap) {
        struct pollfd *p = realloc(s->pfds, 2 * want * sizeof *p);
        if (p == NULL)
            return -1;
        s->pfds = p;
        s->pfds_cap = 2 * want;
    }
    add_pollfd(s, &n, wake_pipe[0], POLLIN);
    s->pi_log = log_poll_fd() >= 0 ? add_pollfd(s, &n, log_poll_fd(), POLLOUT) : -1;
    s->pi_listen = -1;
    if (s->now >= s->accept_paused_until && can_accept(s))
        s->pi_listen = add_pollfd(s, &n, s->listen_fd, POLLIN);
    for (int i = 0; i < s->nconns; i++)
        client_pollfds(s, s->conns[i], &n);
    return n;
}

/* poll_timeout - milliseconds until the nearest deadline, or -1 for none. */
static int poll_timeout(const struct server *s)
{
    int64_t t = -1;

    if (s->reap_pending)
        return 0;
    if (s->now < s->accept_paused_until)
        t = s->accept_paused_until;
    for (int i = 0; i < s->nconns; i++) {
        int64_t d = client_next_deadline(s->conns[i]);
        if (d > 0 && (t < 0 || d < t))
            t = d;
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

        sigchld_wakes = s->untracked > 0;
        if (s->reap_pending)
            reap_children(s);
        s->now = now_ms();
        if ((n = build_pollfds(s)) < 0) {
            log_problem("out of memory");
            return -1;
        }
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
        if (s->pi_log >= 0 && s->pfds[s->pi_log].revents)
            log_flush();
        /* backwards: a client that closes is replaced by the last one, done already */
        for (int i = s->nconns - 1; i >= 0; i--)
            client_handle_events(s, s->conns[i]);
        if (s->pi_listen >= 0 && s->pfds[s->pi_listen].revents)
            accept_clients(s);
    }
    return 0;
}

/* shutdown_server - on a stop signal: tell every client why and close it,
 * kill every command, reap the shells (SIGKILL cannot be ignored: they end
 * now), and take the token away. */
static void shutdown_server(struct server *s)
{
    char why[80];

    log_info("caught signal %d; stopping", (int)stop_signal);
    snprintf(why, sizeof why, "server stopping (signal %d)", (int)stop_signal);
    while (s->nconns > 0)
        client_stopping(s, s->conns[s->nconns - 1], why);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    if (s->token_path[0] != '\0')
        unlink(s->token_path);
    close(s->listen_fd);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    free(s->conns);
    free(s->pfds);
}

/* ----------------------------------------------------------------- start */

/* write_token - a new token for this run, in its file, before the port is
 * announced: a client started on "listening on" finds it there. */
static int write_token(struct server *s, const char *addr)
{
    char err[RSH_AUTH_ERR_LEN];
    const char *colon = strrchr(addr, ':');
    int port = colon != NULL ? atoi(colon + 1) : s->opt.port;

    if (s->opt.no_auth) {
        log_problem("WARNING: --no-auth: no token is asked for. ANY user of this machine "
                    "can connect to %s and run commands as uid %lu, with all its files; "
                    "use it only for a lesson, on a machine of your own", addr,
                    (unsigned long)geteuid());
        return 0;
    }
    if (s->opt.token_file != NULL)
        snprintf(s->token_path, sizeof s->token_path, "%s", s->opt.token_file);
    else if (rsh_token_path(err, s->token_path, sizeof s->token_path, port) < 0)
        goto fail;
    if (rsh_token_create(err, s->token_path, s->opt.token_file == NULL, s->token) < 0)
        goto fail;
    log_info("token in %s: clients of this user read it from there", s->token_path);
    return 0;
fail:
    s->token_path[0] = '\0';
    log_problem("%s; not starting (--token-file PATH puts the token elsewhere)", err);
    return -1;
}

/* open_listener - the non-blocking listening socket; its address goes into
 * addr (NET_ADDR_LEN bytes). */
static int open_listener(struct server *s, char *addr)
{
    char err[NET_ERR_LEN];
    int loopback;

    s->listen_fd = net_listen(err, s->opt.host, s->opt.port, SOMAXCONN);
    /* Non-blocking: a client that connects and resets before accept() must
     * not leave accept() waiting for the next one. */
    if (s->listen_fd < 0 || net_set_cloexec(err, s->listen_fd) < 0 ||
        net_set_nonblock(err, s->listen_fd, 1) < 0 ||
        net_local_name(err, s->listen_fd, addr, NET_ADDR_LEN, &loopback) < 0) {
        log_problem("%s", err);
        return -1;
    }
    if (!loopback)
        log_problem("warning: listening on %s, not loopback: anyone who can reach it "
                    "and holds the token can run commands as this user; the token "
                    "crosses the network in clear text", addr);
    return 0;
}

/* announce - the token first, then where we listen: the harness and people
 * start clients on that line. */
static int announce(struct server *s, const char *addr)
{
    if (write_token(s, addr) < 0)
        return -1;
    printf("listening on %s\n", addr);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct server s;
    char addr[NET_ADDR_LEN];
    int rc;

    memset(&s, 0, sizeof s);
    s.opt = parse_args(argc, argv);
    log_set_quiet(s.opt.quiet);
    ensure_std_fds();
    log_open();
    if (setup_signals() < 0) {
        log_problem("signals: %s", strerror(errno));
        return 1;
    }
    if (open_listener(&s, addr) < 0 || choose_max_clients(&s) < 0 || announce(&s, addr) < 0) {
        if (s.token_path[0] != '\0')
            unlink(s.token_path);
        log_close(1000);
        return 1;
    }
    rc = serve(&s);
    shutdown_server(&s);
    log_close(1000);
    return rc == 0 ? 0 : 1;
}
