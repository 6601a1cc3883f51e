/*
 * rsh-server-client.c - what one connection does (see rsh-server.h).
 *
 * Per client:
 *   - a frame_reader collects the bytes of its commands; commands are taken
 *     out one at a time, and the next one only once the previous 'X' is
 *     queued, so answers come back in order however many are pipelined;
 *   - an output queue holds frames not yet accepted by its socket;
 *   - at most one running command.
 *
 * Memory stays bounded: while a client's output queue holds OUTPUT_BOUND
 * bytes, its command's pipes are not read, the pipes fill, and the command
 * blocks in write() until the client catches up (backpressure). While a
 * command runs, the socket is not read past INPUT_BOUND bytes of queued
 * commands, so TCP's flow control holds back a client that pipelines more.
 *
 * A client that must go is marked CLIENT_DROPPED (client_drop) and closed
 * at the end of its poll() round, in one place (client_handle_events).
 */
#include "rsh-server.h"
#include "rsh-proto.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void client_flush(struct server *s, struct client *c);

/* buffered_input - bytes received from the client and not yet taken out. */
static size_t buffered_input(const struct client *c)
{
    return c->in.end - c->in.start;
}

/* client_drop - the client must go: say why, close it at the end of the round. */
__attribute__((format(printf, 2, 3))) static void client_drop(struct client *c,
                                                              const char *why_fmt, ...)
{
    va_list ap;

    if (c->state == CLIENT_DROPPED)
        return; /* the first reason is the one to log */
    va_start(ap, why_fmt);
    vsnprintf(c->why, sizeof c->why, why_fmt, ap);
    va_end(ap);
    c->state = CLIENT_DROPPED;
}

/* client_close - forget a client: kill its command, close its socket. */
void client_close(struct server *s, struct client *c, const char *why)
{
    if (c->busy) {
        command_kill(&c->cmd);
        log_info("client %lu %s; killed its command (process group %ld)", c->id, why,
                 (long)c->cmd.pid);
    } else {
        log_info("client %lu %s", c->id, why);
    }
    close(c->fd);
    frame_reader_free(&c->in);
    outq_free(&c->out);
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
    if (outq_put_frame(&c->out, RSH_ERROR, reason, strlen(reason)) < 0)
        c->out.start = c->out.end = 0; /* no memory: at least close cleanly */
}

/* protocol_error - the client broke the protocol: log it, send '!', close. */
static void protocol_error(struct client *c, const char *reason)
{
    log_problem("client %lu: protocol error: %s", c->id, reason);
    client_say_goodbye(c, reason);
}

/* queue_output - queue a frame for the client; without memory, drop the client. */
static void queue_output(struct client *c, char type, const void *p, size_t n)
{
    if (outq_put_frame(&c->out, type, p, n) < 0)
        client_drop(c, "dropped: out of memory");
}

/*
 * bad_request - why a frame from the client is not a command we can run,
 * or NULL if it is one. rc is what frame_reader_next() returned for it.
 */
static const char *bad_request(const struct client *c, int rc, const unsigned char *body,
                               uint32_t len, char *reason, size_t cap)
{
    if (rc == FRAME_TOO_BIG) {
        rsh_describe_length(reason, cap, &c->in, RSH_MAX_REQUEST);
        return reason;
    }
    if (rc != FRAME_OK)
        return frame_strerror(rc);
    if (len == 0)
        return "frame length 0: a frame holds at least its message type";
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
static void command_not_started(struct client *c, int error)
{
    char msg[160];
    int n = snprintf(msg, sizeof msg, "rsh-server: cannot start the command: %s\n",
                     strerror(error));

    log_problem("client %lu: cannot start a command: %s", c->id, strerror(error));
    memset(&c->cmd, 0, sizeof c->cmd);
    c->cmd.out_fd = c->cmd.err_fd = -1;
    c->cmd.reaped = 1; /* finished already: client_step() sends the 'X' */
    c->cmd.status = 255;
    queue_output(c, RSH_STDERR, msg, (size_t)n);
}

/* frame_clock - a partial frame starts the whole-frame clock: a client that
 * trickles one byte every few seconds is not "active", it is holding a
 * connection slot. */
static void frame_clock(struct server *s, struct client *c)
{
    if (buffered_input(c) == 0)
        c->frame_deadline = 0;
    else if (c->frame_deadline == 0)
        c->frame_deadline = s->now + s->opt.frame_timeout_ms;
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
        frame_clock(s, c);
        return 0;
    }
    c->frame_deadline = 0;
    if ((why = bad_request(c, rc, body, len, reason, sizeof reason)) != NULL) {
        protocol_error(c, why);
        return 0;
    }
    /* body is only valid until the reader's next call, and sh wants a string */
    if ((text = malloc(len)) == NULL) {
        client_drop(c, "dropped: out of memory");
        return 0;
    }
    memcpy(text, body + 1, len - 1);
    text[len - 1] = '\0';
    c->busy = 1;
    if (command_start(&c->cmd, text, s->now + s->opt.timeout_ms) < 0)
        command_not_started(c, errno);
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
    queue_output(c, RSH_STDERR, msg, (size_t)n);
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
            if (!command_finished(&c->cmd))
                return;
            rsh_put_status(status, c->cmd.timed_out ? -SIGKILL : c->cmd.status);
            c->busy = 0;
            queue_output(c, RSH_EXIT, status, sizeof status);
            client_flush(s, c); /* the answer is complete: send it before the next spawn */
        } else if (!start_command(s, c)) {
            return;
        }
    }
}

/* client_read_commands - one recv() into the client's frame reader. The
 * frames are taken out by client_step(), one command at a time. */
static void client_read_commands(struct client *c)
{
    ssize_t n = frame_reader_fill(&c->in, c->fd);

    /* ENOBUFS: the reader is full of queued commands; read again once the
     * running command is done and the next one is taken out. */
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                            errno == ENOBUFS)))
        return;
    if (n < 0)
        client_drop(c, "dropped: %s", strerror(errno));
    else if (!c->busy && frame_reader_at_eof(&c->in) == FRAME_TRUNCATED)
        client_drop(c, "disconnected inside a frame (%zu bytes of it arrived)",
                    buffered_input(c));
    else
        client_drop(c, "disconnected");
}

/* client_discard_input - after a '!': read and throw away what arrives, so
 * unread bytes do not turn our close into an RST. */
static void client_discard_input(struct client *c)
{
    char buf[16384];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);

    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
        return;
    if (n < 0)
        client_drop(c, "dropped after the error: %s", strerror(errno));
    else if (c->state == CLIENT_DRAINING)
        client_drop(c, "closed after the error");
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

    if (c->state == CLIENT_DROPPED)
        return;
    if (outq_len(&c->out) > 0 && !c->out.blocked)
        sent = outq_send(&c->out, c->fd);
    if (sent < 0) {
        client_drop(c, "dropped: %s", strerror(errno));
        return;
    }
    if (outq_len(&c->out) == 0)
        c->stall_deadline = 0;
    else if (sent > 0 || c->stall_deadline == 0)
        c->stall_deadline = s->now + s->opt.timeout_ms;

    if (c->state == CLIENT_CLOSING && outq_len(&c->out) == 0) {
        if (c->input_eof) {
            client_drop(c, "closed after the error");
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
        client_drop(c, "dropped: took no output for %g s", (double)s->opt.timeout_ms / 1000);
    } else if (c->state == CLIENT_DRAINING && s->now >= c->drain_deadline) {
        client_drop(c, "closed after the error");
    }
}

/* client_read_pipe - one chunk of a command's output into the client's
 * queue, or EOF: every process holding the pipe's write end has closed it. */
static void client_read_pipe(struct client *c, int *fd, char type)
{
    ssize_t n = outq_read_frame(&c->out, type, *fd, CHUNK_SIZE);

    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
        return;
    if (n < 0 && errno == ENOMEM) {
        client_drop(c, "dropped: out of memory");
        return;
    }
    close(*fd);
    *fd = -1;
}

/* client_wants_input - poll the socket for reading? Not while a command
 * runs and INPUT_BOUND bytes of later commands are already waiting. */
int client_wants_input(const struct client *c)
{
    if (c->state == CLIENT_SERVING)
        return !c->busy || buffered_input(c) < INPUT_BOUND;
    return c->state != CLIENT_DROPPED && !c->input_eof;
}

/* revents - what poll() reported for entry i of this round (none if i < 0). */
static short revents(const struct server *s, int i)
{
    return i >= 0 ? s->pfds[i].revents : 0;
}

/* client_handle_events - everything poll() reported for one client, then
 * its state machine and clocks (which move even without events); then, if
 * any step dropped it, the close. */
void client_handle_events(struct server *s, struct client *c)
{
    short sock = revents(s, c->pi_sock);

    if (revents(s, c->pi_out) && c->cmd.out_fd >= 0)
        client_read_pipe(c, &c->cmd.out_fd, RSH_STDOUT);
    if (revents(s, c->pi_err) && c->cmd.err_fd >= 0)
        client_read_pipe(c, &c->cmd.err_fd, RSH_STDERR);
    /* POLLHUP or POLLERR without POLLIN: the socket is dead in both directions
     * (reset) while we were not reading it; answers could never arrive. */
    if ((sock & POLLIN) && c->state == CLIENT_SERVING)
        client_read_commands(c);
    else if ((sock & POLLIN) && c->state != CLIENT_DROPPED)
        client_discard_input(c);
    else if (sock & (POLLHUP | POLLERR))
        client_drop(c, "dropped: connection reset");
    if (sock & POLLOUT)
        c->out.blocked = 0;
    client_step(s, c);
    client_flush(s, c);
    client_check_deadlines(s, c);
    if (c->state == CLIENT_DROPPED)
        client_close(s, c, c->why);
}

/* client_reaped - the shell pid has ended: if it is a client's command,
 * note its status. A shell whose client already left is simply forgotten. */
void client_reaped(struct server *s, pid_t pid, int wstatus)
{
    for (int i = 0; i < s->nslots; i++) {
        struct client *c = &s->clients[i];
        if (c->state != CLIENT_FREE && c->busy && c->cmd.pid == pid) {
            c->cmd.reaped = 1;
            c->cmd.status = wire_status(wstatus);
            return;
        }
    }
}

/* client_slot - a free slot, or NULL. */
static struct client *client_slot(struct server *s)
{
    for (int i = 0; i < s->nslots; i++)
        if (s->clients[i].state == CLIENT_FREE)
            return &s->clients[i];
    return NULL;
}

/* client_open - set up an accepted connection, or tell it the server is busy. */
void client_open(struct server *s, int fd, const char *peer)
{
    struct client *c;

    /* accept() does not pass O_NONBLOCK on everywhere (Linux drops it) */
    if (net_set_cloexec(NULL, fd) < 0 || net_set_nonblock(NULL, fd, 1) < 0 ||
        (c = client_slot(s)) == NULL) {
        log_info("connection from %s closed at once: no free slot", peer);
        close(fd);
        return;
    }
    /* Each frame is handed to send() whole, so Nagle's algorithm could only
     * hold a small 'X' back until the client ACKs the 'O' before it. */
    (void)net_set_nodelay(NULL, fd, 1);
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
