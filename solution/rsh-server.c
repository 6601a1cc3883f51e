/*
 * rsh-server.c - the remote shell: runs each command a client sends with
 * /bin/sh -c and streams its stdout and stderr back as frames (rsh-proto.h).
 *
 * One thread, one poll() loop. Every descriptor is non-blocking, so no
 * client can stall the others: a client that stops reading, sends half a
 * frame, or sends garbage only ever waits on its own queue.
 *
 * Per client:
 *   - a frame_reader collects the bytes of its commands; commands are taken
 *     out one at a time, and the next one only once the previous 'X' is
 *     queued, so answers come back in order however many are pipelined;
 *   - an output queue holds frames not yet accepted by its socket;
 *   - at most one running command: a shell in its own process group, with
 *     stdin from /dev/null and stdout and stderr on two pipes.
 *
 * Memory stays bounded: while a client's output queue holds OUTPUT_BOUND
 * bytes, its command's pipes are not read, the pipes fill, and the command
 * blocks in write() until the client catches up (backpressure). While a
 * command runs, the socket is not read past INPUT_BOUND bytes of queued
 * commands, so TCP's flow control holds back a client that pipelines more.
 *
 * Every wait has a deadline: a command (--timeout), a started frame
 * (--frame-timeout), queued output the client does not take (--timeout),
 * and the brief drain after an error (DRAIN_MS).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "rsh-proto.h"

#define CHUNK_SIZE (64 * 1024)    /* one read() from a pipe -> one 'O' or 'E' frame */
#define OUTPUT_BOUND (256 * 1024) /* stop reading a command's pipes above this */
#define INPUT_BOUND (64 * 1024)   /* while a command runs, stop reading commands above this */
#define DRAIN_MS 1000             /* after '!' and half-close: discard input this long */
#define ACCEPT_PAUSE_MS 100       /* after accept() fails for lack of descriptors */
#define ACCEPT_BATCH 64           /* connections taken per poll() round */
#define REJECT_SLOTS 16           /* over-the-cap connections told "busy" at once */
#define DEFAULT_TIMEOUT_S 30.0
#define DEFAULT_FRAME_TIMEOUT_S 10.0
#define DEFAULT_MAX_CLIENTS 64

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL /* Linux: EPIPE instead of SIGPIPE, per call */
#else
#define SEND_FLAGS 0 /* elsewhere SIGPIPE is ignored for the whole process (main) */
#endif

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

struct options {
    const char *host;
    int port;
    int64_t timeout_ms;       /* a command's run time; a stall in taking output */
    int64_t frame_timeout_ms; /* from a frame's first byte to its last */
    int max_clients;
    int quiet;
};

/* A running command: one shell, leader of its own process group. */
struct command {
    pid_t pid;          /* the shell; also the process group id */
    int out_fd, err_fd; /* read ends of its stdout and stderr pipes; -1 after EOF */
    int reaped;         /* waitpid() has collected the shell's status */
    int32_t status;     /* wire status: exit code, or -N for signal N */
    int timed_out;      /* we killed it at its deadline */
    int64_t deadline;
};

/* Bytes waiting for a client's socket: whole frames in buf[start..end). */
struct out_queue {
    unsigned char *buf;
    size_t cap, start, end;
    int blocked; /* the last send() hit a full socket buffer: wait for POLLOUT */
};

enum client_state {
    CLIENT_FREE,     /* slot unused */
    CLIENT_SERVING,  /* reading commands and running them, one at a time */
    CLIENT_CLOSING,  /* a '!' frame is queued: send it, discard what arrives */
    CLIENT_DRAINING, /* half-closed after the '!': discard input until EOF or DRAIN_MS */
};

struct client {
    enum client_state state;
    int fd;
    unsigned long id;     /* for the log: client 1, client 2, ... */
    char peer[80];        /* "127.0.0.1:5555" */
    int admitted;         /* counts toward --max-clients */
    int input_eof;        /* the peer sent FIN (CLOSING/DRAINING only) */
    struct frame_reader in;
    struct out_queue out;
    int busy;             /* cmd holds the running command */
    struct command cmd;
    int64_t frame_deadline; /* a started frame must be complete by then; 0: none */
    int64_t stall_deadline; /* queued output must move by then; 0: none */
    int64_t drain_deadline; /* DRAINING ends by then */
    int pi_sock, pi_out, pi_err; /* entries in this round's pollfd array, or -1 */
};

struct server {
    struct options opt;
    int listen_fd;
    int pi_listen;
    int64_t accept_paused_until;
    struct client *clients; /* max_clients + REJECT_SLOTS slots */
    int nslots;
    int admitted;
    unsigned long next_id;
    struct pollfd *pfds;
    int64_t now; /* monotonic ms, read once per poll() round */
};

/* The signal handlers only set a flag and wake poll() through this pipe:
 * the self-pipe trick, so a SIGCHLD between two polls is never lost. */
static volatile sig_atomic_t stop_signal;
static int wake_pipe[2] = {-1, -1};
static int quiet;

/* ---------------------------------------------------------------- logging */

/* log_line - "rsh-server: TEXT\n" on stderr in one write(), so the line is
 * never cut in two by another program writing to the same terminal or pipe. */
static void log_line(const char *fmt, va_list ap)
{
    char line[512];
    int n = snprintf(line, sizeof line, "rsh-server: ");

    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2; /* cut a very long line short */
    line[n++] = '\n';
    (void)write_all(STDERR_FILENO, line, (size_t)n);
}

/* log_info - one short line on stderr, unless --quiet. */
__attribute__((format(printf, 1, 2))) static void log_info(const char *fmt, ...)
{
    va_list ap;

    if (quiet)
        return;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

/* log_problem - one short line on stderr, always. */
__attribute__((format(printf, 1, 2))) static void log_problem(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------ time, descriptors */

/* now_ms - a clock that never jumps: deadlines survive a change of date. */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* set_nonblocking - read/write/accept return EAGAIN instead of waiting. */
static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* set_cloexec - close fd in every command we exec. Without it each shell
 * would inherit every client's socket: a client would not see EOF when we
 * close its connection, because a command somewhere still holds it open. */
static int set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);

    return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/* make_pipe - a pipe with both ends close-on-exec (pipe2() is Linux-only;
 * one thread, so no fork() can slip in between pipe() and fcntl()). */
static int make_pipe(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    if (set_cloexec(fds[0]) < 0 || set_cloexec(fds[1]) < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    return 0;
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

/* format_addr - "1.2.3.4:80" or "[::1]:80". */
static void format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
    char host[64], port[16];

    if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(out, cap, "?");
    else if (sa->sa_family == AF_INET6)
        snprintf(out, cap, "[%s]:%s", host, port);
    else
        snprintf(out, cap, "%s:%s", host, port);
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

    if (make_pipe(wake_pipe) < 0 || set_nonblocking(wake_pipe[0]) < 0 ||
        set_nonblocking(wake_pipe[1]) < 0)
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

/* ----------------------------------------------------------- output queue */

static size_t out_queue_len(const struct out_queue *q)
{
    return q->end - q->start;
}

/* out_queue_reserve - room for n more bytes at buf + end. Returns 0, or -1
 * (ENOMEM). The queue stays near OUTPUT_BOUND, so buf stays small. */
static int out_queue_reserve(struct out_queue *q, size_t n)
{
    size_t cap;
    unsigned char *p;

    if (q->start > 0 && q->cap - q->end < n) { /* slide the unsent bytes down */
        memmove(q->buf, q->buf + q->start, q->end - q->start);
        q->end -= q->start;
        q->start = 0;
    }
    if (q->cap - q->end >= n)
        return 0;
    for (cap = q->cap ? q->cap : 4096; cap - q->end < n; cap *= 2)
        ;
    if ((p = realloc(q->buf, cap)) == NULL)
        return -1;
    q->buf = p;
    q->cap = cap;
    return 0;
}

/* out_queue_put_frame - queue one frame: type byte, then n bytes of payload. */
static int out_queue_put_frame(struct out_queue *q, char type, const void *payload, size_t n)
{
    unsigned char *p;

    if (out_queue_reserve(q, FRAME_HEADER_SIZE + 1 + n) < 0)
        return -1;
    p = q->buf + q->end;
    frame_put_length(p, (uint32_t)(1 + n));
    p[FRAME_HEADER_SIZE] = (unsigned char)type;
    if (n > 0)
        memcpy(p + FRAME_HEADER_SIZE + 1, payload, n);
    q->end += FRAME_HEADER_SIZE + 1 + n;
    return 0;
}

/*
 * out_queue_read_frame - one read() of up to CHUNK_SIZE bytes from a pipe,
 * queued as one frame of that type. The bytes go straight behind a header
 * reserved in the queue, so they are copied once. Returns the byte count,
 * 0 at EOF, or -1 with errno (EAGAIN: nothing to read now).
 */
static ssize_t out_queue_read_frame(struct out_queue *q, char type, int fd)
{
    unsigned char *p;
    ssize_t n;

    if (out_queue_reserve(q, FRAME_HEADER_SIZE + 1 + CHUNK_SIZE) < 0)
        return -1;
    p = q->buf + q->end;
    do
        n = read(fd, p + FRAME_HEADER_SIZE + 1, CHUNK_SIZE);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n;
    frame_put_length(p, (uint32_t)(1 + n));
    p[FRAME_HEADER_SIZE] = (unsigned char)type;
    q->end += FRAME_HEADER_SIZE + 1 + (size_t)n;
    return n;
}

/*
 * out_queue_send - send as much as the socket takes now. A non-blocking
 * send() may take only part of the queue, even part of a frame; the rest
 * stays queued and the peer's reader joins the pieces. Returns the bytes
 * sent (0 if the socket is full: q->blocked is set), or -1 with errno.
 */
static ssize_t out_queue_send(struct out_queue *q, int fd)
{
    size_t sent = 0;

    while (q->end > q->start) {
        ssize_t n = send(fd, q->buf + q->start, q->end - q->start, SEND_FLAGS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            q->blocked = 1;
            break;
        }
        if (n < 0)
            return -1;
        q->start += (size_t)n;
        sent += (size_t)n;
    }
    if (q->start == q->end)
        q->start = q->end = 0;
    return (ssize_t)sent;
}

static void out_queue_free(struct out_queue *q)
{
    free(q->buf);
    memset(q, 0, sizeof *q);
}

/* --------------------------------------------------------------- commands */

/* wire_status - waitpid()'s status as the 'X' frame carries it. */
static int32_t wire_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return -WTERMSIG(wstatus);
    return 255;
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

/*
 * command_start - start a shell for text, its output on two non-blocking
 * pipes. Returns 0, or -1 with errno (pipe or spawn failed).
 */
static int command_start(struct command *cmd, const char *text, int64_t deadline)
{
    int out[2], err[2], rc;
    pid_t pid;

    if (make_pipe(out) < 0)
        return -1;
    if (make_pipe(err) < 0) {
        close(out[0]);
        close(out[1]);
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
    set_nonblocking(out[0]);
    set_nonblocking(err[0]);
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
 * reading its output. The shell is reaped later by reap_children(), like
 * any other child: we never wait here. (If the shell is already reaped
 * while its pipes are still open, a background job of its group holds
 * them, and the group id still names that group.)
 */
static void command_kill(struct command *cmd)
{
    if (cmd->pid > 0 && (!cmd->reaped || cmd->out_fd >= 0 || cmd->err_fd >= 0))
        kill(-cmd->pid, SIGKILL);
    command_close_pipes(cmd);
}

/* command_finished - both pipes at EOF and the shell reaped: 'X' may go. */
static int command_finished(const struct command *cmd)
{
    return cmd->out_fd < 0 && cmd->err_fd < 0 && cmd->reaped;
}

/* ---------------------------------------------------------------- clients */

static void client_flush(struct server *s, struct client *c);

/* buffered_input - bytes received from the client and not yet taken out. */
static size_t buffered_input(const struct client *c)
{
    return c->in.end - c->in.start;
}

/* client_close - forget a client: kill its command, close its socket. */
__attribute__((format(printf, 3, 4))) static void
client_close(struct server *s, struct client *c, const char *why_fmt, ...)
{
    char why[200];
    va_list ap;

    va_start(ap, why_fmt);
    vsnprintf(why, sizeof why, why_fmt, ap);
    va_end(ap);
    if (c->busy) {
        command_kill(&c->cmd);
        log_info("client %lu %s; killed its command (process group %ld)", c->id, why,
                 (long)c->cmd.pid);
    } else {
        log_info("client %lu %s", c->id, why);
    }
    close(c->fd);
    frame_reader_free(&c->in);
    out_queue_free(&c->out);
    if (c->admitted)
        s->admitted--;
    memset(c, 0, sizeof *c);
    c->state = CLIENT_FREE;
    c->fd = -1;
}

/*
 * client_say_goodbye - queue a '!' frame and close gracefully. A plain
 * close() with unread input makes the kernel send RST, and an RST can
 * destroy the '!' frame in the client's receive buffer before it is read.
 * So: send the frame, then shutdown(SHUT_WR) (our FIN follows the frame),
 * then read and discard until the client closes or DRAIN_MS passes.
 */
static void client_say_goodbye(struct client *c, const char *reason)
{
    if (c->busy)
        command_kill(&c->cmd);
    c->busy = 0;
    frame_reader_free(&c->in); /* nothing it sends now will be read as commands */
    c->frame_deadline = 0;
    c->state = CLIENT_CLOSING;
    if (out_queue_put_frame(&c->out, RSH_ERROR, reason, strlen(reason)) < 0)
        c->out.start = c->out.end = 0; /* no memory: at least close cleanly */
}

/* protocol_error - the client broke the protocol: log it, send '!', close. */
static void protocol_error(struct client *c, const char *reason)
{
    log_problem("client %lu: protocol error: %s", c->id, reason);
    client_say_goodbye(c, reason);
}

/* queue_output - queue a frame for the client; without memory, drop it. */
static int queue_output(struct server *s, struct client *c, char type, const void *p, size_t n)
{
    if (out_queue_put_frame(&c->out, type, p, n) == 0)
        return 0;
    client_close(s, c, "dropped: out of memory");
    return -1;
}

/*
 * bad_request - why a frame from the client is not a command we can run,
 * or NULL if it is one. rc is what frame_reader_next() returned for it.
 */
static const char *bad_request(const struct client *c, int rc, const unsigned char *body,
                               uint32_t len, char *reason, size_t cap)
{
    if (rc == FRAME_TOO_BIG) {
        rsh_describe_length(reason, cap, c->in.bad_length, RSH_MAX_REQUEST);
        return reason;
    }
    if (rc != FRAME_OK)
        return frame_strerror(rc);
    if (len == 0) {
        rsh_describe_length(reason, cap, 0, RSH_MAX_REQUEST);
        return reason;
    }
    if (body[0] != RSH_COMMAND) {
        if (body[0] >= 0x20 && body[0] <= 0x7e)
            snprintf(reason, cap, "unknown message type '%c' (0x%02x), expected 'C'", body[0],
                     body[0]);
        else
            snprintf(reason, cap, "unknown message type 0x%02x, expected 'C'", body[0]);
        return reason;
    }
    if (memchr(body + 1, '\0', len - 1) != NULL)
        return "command text contains a NUL byte"; /* sh would run only the part before it */
    return NULL;
}

/* command_not_started - spawning failed (no processes or descriptors left):
 * answer with an 'E' frame saying why, and status 255. */
static void command_not_started(struct server *s, struct client *c, int error)
{
    char msg[160];
    int n = snprintf(msg, sizeof msg, "rsh-server: cannot start the command: %s\n",
                     strerror(error));

    log_problem("client %lu: cannot start a command: %s", c->id, strerror(error));
    memset(&c->cmd, 0, sizeof c->cmd);
    c->cmd.out_fd = c->cmd.err_fd = -1;
    c->cmd.reaped = 1; /* finished already: client_step() sends the 'X' */
    c->cmd.status = 255;
    queue_output(s, c, RSH_STDERR, msg, (size_t)n);
}

/*
 * start_command - take the next complete frame out of the client's reader
 * and start it. Returns 1 if a command was taken (even one that could not
 * start: it is then already finished), 0 if no whole frame is buffered yet
 * or the frame was bad.
 */
static int start_command(struct server *s, struct client *c)
{
    const unsigned char *body = NULL;
    uint32_t len = 0;
    char reason[160], *text;
    const char *why;
    int rc = frame_reader_next(&c->in, &body, &len);

    if (rc == FRAME_AGAIN) {
        /* A partial frame starts the whole-frame clock: a client that
         * trickles one byte every few seconds is not "active", it is
         * holding a connection slot. */
        if (buffered_input(c) == 0)
            c->frame_deadline = 0;
        else if (c->frame_deadline == 0)
            c->frame_deadline = s->now + s->opt.frame_timeout_ms;
        return 0;
    }
    c->frame_deadline = 0;
    if ((why = bad_request(c, rc, body, len, reason, sizeof reason)) != NULL) {
        protocol_error(c, why);
        return 0;
    }
    /* body is only valid until the reader's next call, and sh wants a string */
    if ((text = malloc(len)) == NULL) {
        client_close(s, c, "dropped: out of memory");
        return 0;
    }
    memcpy(text, body + 1, len - 1);
    text[len - 1] = '\0';
    c->busy = 1;
    if (command_start(&c->cmd, text, s->now + s->opt.timeout_ms) < 0)
        command_not_started(s, c, errno);
    free(text);
    return c->state == CLIENT_SERVING;
}

/* command_timed_out - past --timeout: kill the group, say so on stderr. */
static void command_timed_out(struct server *s, struct client *c)
{
    char msg[120];
    int n = snprintf(msg, sizeof msg, "rsh-server: command timed out after %g s; killed\n",
                     (double)s->opt.timeout_ms / 1000);

    command_kill(&c->cmd);
    c->cmd.timed_out = 1;
    log_info("client %lu: command timed out; killed process group %ld", c->id,
             (long)c->cmd.pid);
    queue_output(s, c, RSH_STDERR, msg, (size_t)n);
}

/*
 * client_step - move a serving client along: kill a command past its
 * deadline; when the running command has finished, queue its 'X'; when
 * none runs, start the next one that is buffered.
 */
static void client_step(struct server *s, struct client *c)
{
    while (c->state == CLIENT_SERVING) {
        if (c->busy) {
            unsigned char status[RSH_STATUS_SIZE];
            if (!c->cmd.timed_out && s->now >= c->cmd.deadline)
                command_timed_out(s, c);
            if (c->state != CLIENT_SERVING || !command_finished(&c->cmd))
                return;
            rsh_put_status(status, c->cmd.timed_out ? -SIGKILL : c->cmd.status);
            c->busy = 0;
            if (queue_output(s, c, RSH_EXIT, status, sizeof status) < 0)
                return;
            client_flush(s, c); /* the answer is complete: send it before the next spawn */
            if (c->state != CLIENT_SERVING)
                return;
        }
        if (!start_command(s, c))
            return;
    }
}

/* client_read_commands - one recv() into the client's frame reader. The
 * frames are taken out by client_step(), one command at a time. */
static void client_read_commands(struct server *s, struct client *c)
{
    ssize_t n = frame_reader_fill(&c->in, c->fd);

    /* ENOBUFS: the reader is full of queued commands; read again once the
     * running command is done and the next one is taken out. */
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                            errno == ENOBUFS)))
        return;
    if (n < 0)
        client_close(s, c, "dropped: %s", strerror(errno));
    else if (!c->busy && frame_reader_at_eof(&c->in) == FRAME_TRUNCATED)
        client_close(s, c, "disconnected inside a frame (%zu bytes of it arrived)",
                     buffered_input(c));
    else
        client_close(s, c, "disconnected");
}

/* client_discard_input - after a '!': read and throw away what arrives, so
 * unread bytes do not turn our close into an RST. */
static void client_discard_input(struct server *s, struct client *c)
{
    char buf[16384];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);

    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
        return;
    if (n < 0)
        client_close(s, c, "dropped after the error: %s", strerror(errno));
    else if (c->state == CLIENT_DRAINING)
        client_close(s, c, "closed after the error");
    else
        c->input_eof = 1; /* still sending it the '!' frame */
}

/*
 * client_flush - send queued output. Keeps the stall deadline: a client
 * whose queue does not move for --timeout is dropped, or a client that
 * never reads would hold its slot and memory forever. After the '!' frame
 * of a CLOSING client is out, half-close and start draining.
 */
static void client_flush(struct server *s, struct client *c)
{
    ssize_t sent = 0;

    if (out_queue_len(&c->out) > 0 && !c->out.blocked)
        sent = out_queue_send(&c->out, c->fd);
    if (sent < 0) {
        client_close(s, c, "dropped: %s", strerror(errno));
        return;
    }
    if (out_queue_len(&c->out) == 0)
        c->stall_deadline = 0;
    else if (sent > 0 || c->stall_deadline == 0)
        c->stall_deadline = s->now + s->opt.timeout_ms;

    if (c->state == CLIENT_CLOSING && out_queue_len(&c->out) == 0) {
        if (c->input_eof) {
            client_close(s, c, "closed after the error");
            return;
        }
        shutdown(c->fd, SHUT_WR); /* FIN after the '!' frame: "nothing more from us" */
        c->state = CLIENT_DRAINING;
        c->drain_deadline = s->now + DRAIN_MS;
    }
}

/* client_check_deadlines - act on whichever of the client's clocks ran out. */
static void client_check_deadlines(struct server *s, struct client *c)
{
    if (c->state == CLIENT_SERVING && c->frame_deadline && s->now >= c->frame_deadline) {
        char reason[160];
        snprintf(reason, sizeof reason, "frame not complete after %g s (%zu bytes arrived)",
                 (double)s->opt.frame_timeout_ms / 1000, buffered_input(c));
        protocol_error(c, reason);
        client_flush(s, c);
    } else if (c->stall_deadline && s->now >= c->stall_deadline) {
        client_close(s, c, "dropped: took no output for %g s",
                     (double)s->opt.timeout_ms / 1000);
    } else if (c->state == CLIENT_DRAINING && s->now >= c->drain_deadline) {
        client_close(s, c, "closed after the error");
    }
}

/* client_read_pipe - one chunk of a command's output into the client's
 * queue, or EOF: every process holding the pipe's write end has closed it. */
static void client_read_pipe(struct server *s, struct client *c, int *fd, char type)
{
    ssize_t n = out_queue_read_frame(&c->out, type, *fd);

    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
        return;
    if (n < 0 && errno == ENOMEM) {
        client_close(s, c, "dropped: out of memory");
        return;
    }
    close(*fd);
    *fd = -1;
}

/* client_wants_input - poll the socket for reading? Not while a command
 * runs and INPUT_BOUND bytes of later commands are already waiting. */
static int client_wants_input(const struct client *c)
{
    if (c->state == CLIENT_SERVING)
        return !c->busy || buffered_input(c) < INPUT_BOUND;
    return !c->input_eof;
}

/* client_handle_events - everything poll() reported for one client, then
 * its state machine and clocks (which move even without events). */
static void client_handle_events(struct server *s, struct client *c)
{
    short sock = c->pi_sock >= 0 ? s->pfds[c->pi_sock].revents : 0;

    if (c->pi_out >= 0 && s->pfds[c->pi_out].revents && c->cmd.out_fd >= 0)
        client_read_pipe(s, c, &c->cmd.out_fd, RSH_STDOUT);
    if (c->state != CLIENT_FREE && c->pi_err >= 0 && s->pfds[c->pi_err].revents &&
        c->cmd.err_fd >= 0)
        client_read_pipe(s, c, &c->cmd.err_fd, RSH_STDERR);
    /* POLLHUP or POLLERR without POLLIN: the socket is dead in both directions
     * (reset) while we were not reading it; answers could never arrive. */
    if (c->state != CLIENT_FREE && (sock & POLLIN)) {
        if (c->state == CLIENT_SERVING)
            client_read_commands(s, c);
        else
            client_discard_input(s, c);
    } else if (c->state != CLIENT_FREE && (sock & (POLLHUP | POLLERR))) {
        client_close(s, c, "dropped: connection reset");
    }
    if (c->state != CLIENT_FREE && (sock & POLLOUT))
        c->out.blocked = 0;
    if (c->state != CLIENT_FREE)
        client_step(s, c);
    if (c->state != CLIENT_FREE)
        client_flush(s, c);
    if (c->state != CLIENT_FREE)
        client_check_deadlines(s, c);
}

/* client_by_pid - the client whose running command is this shell, if any. */
static struct client *client_by_pid(struct server *s, pid_t pid)
{
    for (int i = 0; i < s->nslots; i++)
        if (s->clients[i].state != CLIENT_FREE && s->clients[i].busy &&
            s->clients[i].cmd.pid == pid)
            return &s->clients[i];
    return NULL;
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

    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
        struct client *c = client_by_pid(s, pid);
        if (c != NULL) {
            c->cmd.reaped = 1;
            c->cmd.status = wire_status(wstatus);
        }
    }
}

/* ---------------------------------------------------------- accepting */

/* client_slot - a free slot, or NULL. */
static struct client *client_slot(struct server *s)
{
    for (int i = 0; i < s->nslots; i++)
        if (s->clients[i].state == CLIENT_FREE)
            return &s->clients[i];
    return NULL;
}

/* client_open - set up an accepted connection, or tell it the server is busy. */
static void client_open(struct server *s, int fd, const struct sockaddr *sa, socklen_t salen)
{
    struct client *c;
    char peer[80];
    int one = 1;

    format_addr(sa, salen, peer, sizeof peer);
    /* accept() does not pass O_NONBLOCK on everywhere (Linux drops it) */
    if (set_cloexec(fd) < 0 || set_nonblocking(fd) < 0 || (c = client_slot(s)) == NULL) {
        log_info("connection from %s closed at once: no free slot", peer);
        close(fd);
        return;
    }
    /* Each frame is handed to send() whole, so Nagle's algorithm could only
     * hold a small 'X' back until the client ACKs the 'O' before it. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(c, 0, sizeof *c);
    c->state = CLIENT_SERVING;
    c->fd = fd;
    c->id = ++s->next_id;
    c->pi_sock = c->pi_out = c->pi_err = -1;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    frame_reader_init(&c->in, RSH_MAX_REQUEST);
    if (s->admitted >= s->opt.max_clients) {
        char reason[80];
        snprintf(reason, sizeof reason, "server busy: %d clients", s->admitted);
        log_info("client %lu from %s refused: %s", c->id, c->peer, reason);
        client_say_goodbye(c, reason);
        client_flush(s, c);
        return;
    }
    c->admitted = 1;
    s->admitted++;
    log_info("client %lu connected from %s", c->id, c->peer);
}

/* accept_clients - take the connections waiting in the backlog. */
static void accept_clients(struct server *s)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof sa;
        int fd = accept(s->listen_fd, (struct sockaddr *)&sa, &salen);

        if (fd >= 0) {
            client_open(s, fd, (struct sockaddr *)&sa, salen);
        } else if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) {
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
        if (out_queue_len(&c->out) > 0)
            events |= POLLOUT;
        add_pollfd(s, &n, &c->pi_sock, c->fd, events); /* errors are reported even if events is 0 */
        if (c->busy && out_queue_len(&c->out) < OUTPUT_BOUND) {
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

/* ------------------------------------------------------------- listening */

/* is_loopback - does this address only accept connections from this host? */
static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const unsigned char *a =
            (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
        return a[0] == 127;
    }
    if (sa->sa_family == AF_INET6) {
        static const unsigned char loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                0, 0, 0, 0, 0, 0, 0, 1};
        return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, loop6, 16) == 0;
    }
    return 0;
}

/*
 * listen_on - a non-blocking listening socket on host:port. Its address,
 * as bound (the real port when port is 0), goes into addr. Returns the
 * socket, or -1 after printing why.
 */
static int listen_on(const char *host, int port, char *addr, size_t cap, int *loopback)
{
    struct addrinfo hints, *res, *ai;
    struct sockaddr_storage bound;
    socklen_t len = sizeof bound;
    char port_text[16];
    int fd = -1, rc, saved_errno = 0, one = 1;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(port_text, sizeof port_text, "%d", port);
    if ((rc = getaddrinfo(host, port_text, &hints, &res)) != 0) {
        log_problem("%s: %s", host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0) {
            saved_errno = errno;
            continue;
        }
        /* Restart at once on the same port, even while connections of the
         * previous run sit in TIME_WAIT. */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
            break;
        saved_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        log_problem("cannot listen on %s port %d: %s", host, port, strerror(saved_errno));
        return -1;
    }
    /* Non-blocking: a client that connects and resets before accept() must
     * not leave accept() waiting for the next one. */
    if (set_cloexec(fd) < 0 || set_nonblocking(fd) < 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &len) < 0) {
        log_problem("listening socket: %s", strerror(errno));
        close(fd);
        return -1;
    }
    format_addr((struct sockaddr *)&bound, len, addr, cap);
    *loopback = is_loopback((struct sockaddr *)&bound);
    return fd;
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

static long parse_long(const char *name, const char *text, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "rsh-server: %s: '%s' is not a number from %ld to %ld\n", name, text,
                min, max);
        usage_exit(2);
    }
    return v;
}

static int64_t parse_seconds(const char *name, const char *text)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v > 0) || v > 86400.0 * 365) {
        fprintf(stderr, "rsh-server: %s: '%s' is not a positive number of seconds\n", name,
                text);
        usage_exit(2);
    }
    return v * 1000 < 1 ? 1 : (int64_t)(v * 1000);
}

static struct options parse_args(int argc, char **argv)
{
    struct options o = {RSH_DEFAULT_HOST, RSH_DEFAULT_PORT,
                        (int64_t)(DEFAULT_TIMEOUT_S * 1000), -1, DEFAULT_MAX_CLIENTS, 0};
    const char *v;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            usage_exit(0);
        else if (strcmp(argv[i], "--quiet") == 0)
            o.quiet = 1;
        else if ((v = option_value(argc, argv, &i, "--host")) != NULL)
            o.host = v;
        else if ((v = option_value(argc, argv, &i, "--port")) != NULL)
            o.port = (int)parse_long("--port", v, 0, 65535);
        else if ((v = option_value(argc, argv, &i, "--timeout")) != NULL)
            o.timeout_ms = parse_seconds("--timeout", v);
        else if ((v = option_value(argc, argv, &i, "--frame-timeout")) != NULL)
            o.frame_timeout_ms = parse_seconds("--frame-timeout", v);
        else if ((v = option_value(argc, argv, &i, "--max-clients")) != NULL)
            o.max_clients = (int)parse_long("--max-clients", v, 1, 100000);
        else {
            fprintf(stderr, "rsh-server: unknown argument '%s'\n", argv[i]);
            usage_exit(2);
        }
    }
    if (o.frame_timeout_ms < 0) {
        o.frame_timeout_ms = (int64_t)(DEFAULT_FRAME_TIMEOUT_S * 1000);
        if (o.timeout_ms < o.frame_timeout_ms)
            o.frame_timeout_ms = o.timeout_ms;
    }
    return o;
}

int main(int argc, char **argv)
{
    struct server s;
    char addr[96];
    int loopback, rc;

    memset(&s, 0, sizeof s);
    s.opt = parse_args(argc, argv);
    quiet = s.opt.quiet;
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
    if ((s.listen_fd = listen_on(s.opt.host, s.opt.port, addr, sizeof addr, &loopback)) < 0)
        return 1;
    if (!loopback)
        log_problem("warning: listening on %s, not loopback: anyone who can reach it "
                    "can run commands as this user",
                    addr);
    printf("listening on %s\n", addr);
    fflush(stdout);

    rc = serve(&s);
    shutdown_server(&s);
    return rc == 0 ? 0 : 1;
}
