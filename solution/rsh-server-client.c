/*
 * rsh-server-client.c - what one connection does (see rsh-server.h).
 *
 * Per client:
 *   - a frame_reader collects the bytes of its frames: the token first,
 *     then commands, taken out one at a time, and the next one only once
 *     the previous 'X' is queued, so answers come back in order however
 *     many are pipelined (the answer itself: rsh-server-answer.c);
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
 * at the end of its poll() round, in one place (client_handle_events). One
 * the server sends away is told why first, in a '!' frame (client_goodbye).
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

/* buffered_input - bytes received from the client and not yet taken out. */
static size_t buffered_input(const struct client *c)
{
    return c->in.end - c->in.start;
}

/* client_drop - the client must go: say why, close it at the end of the round. */
void client_drop(struct client *c, const char *why_fmt, ...)
{
    va_list ap;

    if (c->state == CLIENT_DROPPED)
        return; /* the first reason is the one to log */
    va_start(ap, why_fmt);
    vsnprintf(c->why, sizeof c->why, why_fmt, ap);
    va_end(ap);
    c->state = CLIENT_DROPPED;
}

/* forget_command - kill the running command; a shell not reaped yet is
 * left to SIGCHLD and waitpid(-1) (its pidfd goes with the client). */
static void forget_command(struct server *s, struct client *c)
{
    command_kill(&c->cmd);
    if (c->cmd.pid > 1 && !c->cmd.reaped) {
        if (c->cmd.pidfd >= 0)
            s->untracked++; /* one without a pidfd was counted at its start */
        s->reap_pending = 1;
    }
    command_close_pidfd(&c->cmd);
    c->busy = 0;
}

/* client_close - forget a client: kill its command, close its socket. */
void client_close(struct server *s, struct client *c, const char *why)
{
    int i = c->index;

    if (c->busy) {
        forget_command(s, c);
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
    s->conns[i] = s->conns[--s->nconns];
    s->conns[i]->index = i;
    free(c);
}

/*
 * client_goodbye - queue a '!' frame and close gracefully. A plain close()
 * with unread input makes the kernel send RST, and an RST can destroy the
 * '!' frame in the client's receive buffer before it is read. So: send the
 * frame, then shutdown(SHUT_WR) (our FIN follows the frame), then read and
 * discard until the client closes or DRAIN_MS passes (client_flush).
 */
void client_goodbye(struct server *s, struct client *c, const char *reason)
{
    if (c->busy)
        forget_command(s, c);
    frame_reader_free(&c->in); /* nothing it sends now will be read as commands */
    c->frame_deadline = c->stall_deadline = c->idle_deadline = 0;
    c->state = CLIENT_CLOSING;
    c->drain_deadline = s->now + GOODBYE_MS;
    if (outq_put_frame(&c->out, RSH_ERROR, reason, strlen(reason)) < 0)
        c->out.start = c->out.end = c->out.partial = 0; /* no memory: at least close cleanly */
}

/* protocol_error - the client broke the protocol: log it, send '!', close. */
static void protocol_error(struct server *s, struct client *c, const char *reason)
{
    log_problem("client %lu: protocol error: %s", c->id, reason);
    client_goodbye(s, c, reason);
}

/* refuse - a client that did not prove it is our user: log it, '!', close. */
static void refuse(struct server *s, struct client *c, const char *reason)
{
    log_problem("client %lu from %s refused: %s", c->id, c->peer, reason);
    client_goodbye(s, c, reason);
}

/* bad_request - why a frame from the client is not one we take, or NULL if
 * it is one. rc is what frame_reader_next() returned for it. */
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
    if (body[0] == RSH_AUTH && c->frames > 0)
        return "an 'A' frame after the first frame: the token goes first, and once";
    if (body[0] != RSH_COMMAND && body[0] != RSH_AUTH) {
        if (body[0] >= 0x20 && body[0] <= 0x7e)
            snprintf(reason, cap, "unknown message type '%c' (0x%02x), expected 'C'", body[0],
                     body[0]);
        else
            snprintf(reason, cap, "unknown message type 0x%02x, expected 'C'", body[0]);
        return reason;
    }
    if (body[0] == RSH_COMMAND && memchr(body + 1, '\0', len - 1) != NULL)
        return "command text contains a NUL byte"; /* sh would run only the part before it */
    return NULL;
}

/* check_token - the client's first frame. Returns 1 if it may go on. */
static int check_token(struct server *s, struct client *c, const unsigned char *body,
                       uint32_t len)
{
    char reason[RSH_PATH_LEN + 200];

    if (body[0] != RSH_AUTH) {
        snprintf(reason, sizeof reason, "authentication required: the first frame must be "
                 "'A' and the token in %s, which only the server's user can read "
                 "(rsh-client sends it)", s->token_path);
        refuse(s, c, reason);
        return 0;
    }
    if (len - 1 != RSH_TOKEN_HEX || !rsh_token_equal(body + 1, s->token, RSH_TOKEN_HEX)) {
        refuse(s, c, len - 1 == RSH_TOKEN_HEX ? "authentication failed: wrong token" :
                     "authentication failed: a token is 64 hex digits");
        return 0;
    }
    c->authed = 1;
    c->idle_deadline = 0;
    return 1;
}

/* frame_clock - a partial frame starts the whole-frame clock: a client that
 * trickles one byte every few seconds is not "active", it is holding a
 * connection slot. No command and no frame at all starts the idle clock
 * (until the token has come: --frame-timeout, not --idle-timeout). */
static void frame_clock(struct server *s, struct client *c)
{
    int64_t idle = c->authed ? s->opt.idle_timeout_ms : s->opt.frame_timeout_ms;

    if (buffered_input(c) == 0)
        c->frame_deadline = 0;
    else if (c->frame_deadline == 0)
        c->frame_deadline = s->now + s->opt.frame_timeout_ms;
    if (c->idle_deadline == 0 && !c->input_eof && idle > 0)
        c->idle_deadline = s->now + idle;
}

/*
 * take_frame - take the next complete frame out of the client's reader and
 * act on it: the token, or a command to start. Returns 1 if one was taken
 * (even a command that could not start: it is then already finished), 0 if
 * no whole frame is buffered yet or the frame was refused.
 */
static int take_frame(struct server *s, struct client *c)
{
    const unsigned char *body = NULL;
    uint32_t len = 0;
    char reason[160];
    const char *why;
    int rc = frame_reader_next(&c->in, &body, &len);

    if (rc == FRAME_AGAIN) {
        frame_clock(s, c);
        return 0;
    }
    c->frame_deadline = 0;
    if ((why = bad_request(c, rc, body, len, reason, sizeof reason)) != NULL) {
        protocol_error(s, c, why);
        return 0;
    }
    if (c->frames++ == 0 && !c->authed)
        return check_token(s, c, body, len);
    if (body[0] == RSH_AUTH)
        return 1; /* --no-auth: a client that sends a token anyway is welcome */
    c->idle_deadline = 0;
    return answer_start(s, c, body, len);
}

/* client_step - move a serving client along: its running command's answer;
 * when none runs, the next frame that is buffered. A complete answer is sent
 * once the next buffered command has started (a pipelining client does not
 * wait for it, and the send then overlaps the new shell's exec); with none
 * buffered, at once. Its 'X' is queued before any output of the next. */
static void client_step(struct server *s, struct client *c)
{
    int answered = 0;

    while (c->state == CLIENT_SERVING) {
        if (c->busy) {
            if (!answer_step(s, c))
                break;
            answered = 1;
        } else if (!take_frame(s, c)) {
            break;
        }
    }
    if (answered)
        client_flush(s, c);
}

/* half_closed - the client sent FIN. A client that has sent its last
 * command may do that: run what it sent whole, send every answer, then
 * close. A client that died or closed looks the same until we write to it;
 * its reset then ends it (client_probe). */
static void half_closed(struct server *s, struct client *c)
{
    if (frame_reader_at_eof(&c->in) == FRAME_TRUNCATED) {
        client_drop(c, "disconnected inside a frame (%zu bytes of it arrived)",
                    frame_reader_pending(&c->in));
    } else if (!c->busy && outq_len(&c->out) == 0) {
        client_drop(c, "disconnected");
    } else {
        c->input_eof = 1;
        c->idle_deadline = 0;
        c->probe_deadline = s->now; /* find out at once if it is really gone */
        log_info("client %lu half-closed: finishing what it sent", c->id);
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
        client_drop(c, "dropped: %s", strerror(errno));
    else
        half_closed(s, c);
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
 * client_flush - send queued output. With --timeout, keeps the stall
 * deadline: a client whose queue does not move for that long is told it is
 * too slow, and dropped. After the '!' frame of a CLOSING client is out,
 * half-close and start draining.
 */
void client_flush(struct server *s, struct client *c)
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
    if (outq_len(&c->out) == 0 || c->state != CLIENT_SERVING || s->opt.timeout_ms == 0)
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

/* client_probe - a half-closed client whose command is silent: an empty
 * 'O' frame (part of the answer, and nothing in it). A client that is only
 * half-closed takes it; one that is gone answers it with a reset. */
void client_probe(struct server *s, struct client *c)
{
    if (outq_len(&c->out) == 0 && outq_put_frame(&c->out, RSH_STDOUT, "", 0) == 0)
        client_flush(s, c);
    c->probe_deadline = s->now + PROBE_MS;
}

/* serving_deadlines - act on whichever clock of a serving client ran out. */
static void serving_deadlines(struct server *s, struct client *c)
{
    char reason[160];

    if (c->frame_deadline && s->now >= c->frame_deadline) {
        snprintf(reason, sizeof reason, "frame not complete after %g s (%zu bytes arrived)",
                 (double)s->opt.frame_timeout_ms / 1000, buffered_input(c));
        protocol_error(s, c, reason);
    } else if (c->stall_deadline && s->now >= c->stall_deadline) {
        snprintf(reason, sizeof reason, "client too slow: it took no output for %g s "
                 "(--timeout); the answer was cut", (double)s->opt.timeout_ms / 1000);
        log_problem("client %lu: %s", c->id, reason);
        answer_cut(s, c, reason);
    } else if (c->idle_deadline && !c->busy && s->now >= c->idle_deadline) {
        if (!c->authed)
            snprintf(reason, sizeof reason, "no token within %g s of connecting",
                     (double)s->opt.frame_timeout_ms / 1000);
        else
            snprintf(reason, sizeof reason, "idle: no command for %g s (--idle-timeout); "
                     "closing", (double)s->opt.idle_timeout_ms / 1000);
        if (c->authed)
            log_info("client %lu: %s", c->id, reason);
        else
            log_problem("client %lu from %s refused: %s", c->id, c->peer, reason);
        client_goodbye(s, c, reason);
    } else if (c->input_eof && c->busy && s->now >= c->probe_deadline) {
        client_probe(s, c);
        return;
    } else {
        return;
    }
    client_flush(s, c);
}

static void client_check_deadlines(struct server *s, struct client *c)
{
    if (c->state == CLIENT_SERVING)
        serving_deadlines(s, c);
    else if (c->state == CLIENT_DRAINING && s->now >= c->drain_deadline)
        client_drop(c, "closed after the error");
    else if (c->state == CLIENT_CLOSING && s->now >= c->drain_deadline)
        client_drop(c, "dropped: it took no output, not even the '!' frame");
}

/* client_next_deadline - the nearest moment this client needs attention
 * without any event; 0 for none, 1 (long past) for "now". */
int64_t client_next_deadline(const struct client *c)
{
    int64_t t = 0;
    int64_t d[7] = {c->frame_deadline, c->stall_deadline, c->idle_deadline, 0, 0, 0, 0};

    if (c->state == CLIENT_DROPPED)
        return 1;
    if (c->state != CLIENT_SERVING) {
        memset(d, 0, sizeof d);
        d[0] = c->drain_deadline;
    } else if (c->busy) {
        d[3] = c->cmd.timed_out ? 0 : c->cmd.deadline;
        d[4] = c->cmd.linger_deadline;
        d[5] = c->input_eof ? c->probe_deadline : 0;
    }
    for (int i = 0; i < 7; i++)
        if (d[i] > 0 && (t == 0 || d[i] < t))
            t = d[i];
    return t;
}

/* client_wants_input - poll the socket for reading? Not after its FIN, and
 * not while a command runs and INPUT_BOUND bytes of later commands wait. */
int client_wants_input(const struct client *c)
{
    if (c->state == CLIENT_SERVING)
        return !c->input_eof && (!c->busy || buffered_input(c) < INPUT_BOUND);
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

    if (revents(s, c->pi_pid))
        command_reap(&c->cmd);
    if (revents(s, c->pi_out) || revents(s, c->pi_err))
        answer_read_pipes(c, revents(s, c->pi_out) != 0, revents(s, c->pi_err) != 0);
    /* POLLHUP or POLLERR without POLLIN: the socket is dead in both directions
     * (reset) while we were not reading it; answers could never arrive. */
    if ((sock & POLLIN) && c->state == CLIENT_SERVING)
        client_read_commands(s, c);
    else if ((sock & POLLIN) && c->state != CLIENT_DROPPED)
        client_discard_input(c);
    else if (sock & (POLLHUP | POLLERR))
        client_drop(c, "dropped: connection reset");
    if (sock & POLLOUT)
        c->out.blocked = 0;
    client_step(s, c);
    client_flush(s, c);
    client_check_deadlines(s, c);
    if (c->state == CLIENT_SERVING && c->input_eof && !c->busy && outq_len(&c->out) == 0)
        client_drop(c, "closed: it had half-closed, and every answer is sent");
    if (c->state == CLIENT_DROPPED)
        client_close(s, c, c->why);
}

/* client_reaped - waitpid(-1) collected pid: if it is a client's command,
 * note its status. A shell whose client already left is simply forgotten. */
void client_reaped(struct server *s, pid_t pid, int wstatus)
{
    for (int i = 0; i < s->nconns; i++) {
        struct client *c = s->conns[i];
        if (c->busy && c->cmd.pid == pid && !c->cmd.reaped) {
            c->cmd.reaped = 1;
            c->cmd.status = wire_status(wstatus);
            if (c->cmd.pidfd < 0)
                s->untracked--;
            command_close_pidfd(&c->cmd);
            return;
        }
    }
    if (s->untracked > 0)
        s->untracked--;
}

/* client_stopping - the server stops: cut the answer at a frame boundary,
 * say why, and close (with what arrived read first: unread input would
 * turn the close into a reset, which can destroy the '!' on its way). */
void client_stopping(struct server *s, struct client *c, const char *why)
{
    char buf[16384];

    if (c->state == CLIENT_SERVING || c->state == CLIENT_CLOSING) {
        outq_cut(&c->out);
        (void)outq_put_frame(&c->out, RSH_ERROR, why, strlen(why));
        c->out.blocked = 0;
        (void)outq_send(&c->out, c->fd);
    }
    shutdown(c->fd, SHUT_WR);
    for (int i = 0; i < 16 && recv(c->fd, buf, sizeof buf, 0) > 0; i++)
        ;
    client_close(s, c, "closed: server stopping");
}

/* add_client - a new slot in the list of connections, or NULL. */
static struct client *add_client(struct server *s)
{
    struct client *c;

    if (s->nconns == s->conns_cap) {
        int cap = s->conns_cap ? 2 * s->conns_cap : 64;
        struct client **p = realloc(s->conns, (size_t)cap * sizeof *p);
        if (p == NULL)
            return NULL;
        s->conns = p;
        s->conns_cap = cap;
    }
    if ((c = calloc(1, sizeof *c)) == NULL)
        return NULL;
    c->index = s->nconns;
    s->conns[s->nconns++] = c;
    return c;
}

/* client_open - set up an accepted connection, or tell it the server is busy. */
void client_open(struct server *s, int fd, const char *peer)
{
    struct client *c;

    /* accept() does not pass O_NONBLOCK on everywhere (Linux drops it) */
    if (net_set_cloexec(NULL, fd) < 0 || net_set_nonblock(NULL, fd, 1) < 0 ||
        (c = add_client(s)) == NULL) {
        log_problem("connection from %s closed at once: %s", peer, strerror(errno));
        close(fd);
        return;
    }
    /* Each frame is handed to send() whole, so Nagle's algorithm could only
     * hold a small 'X' back until the client ACKs the 'O' before it. */
    (void)net_set_nodelay(NULL, fd, 1);
    c->state = CLIENT_SERVING;
    c->fd = fd;
    c->id = ++s->next_id;
    c->authed = s->opt.no_auth;
    c->cmd.pidfd = c->cmd.out_fd = c->cmd.err_fd = -1;
    c->pi_sock = c->pi_out = c->pi_err = c->pi_pid = -1;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    frame_reader_init(&c->in, RSH_MAX_REQUEST);
    if (s->admitted >= s->opt.max_clients) {
        char reason[80];
        snprintf(reason, sizeof reason, "server busy: %d clients", s->admitted);
        log_info("client %lu from %s refused: %s", c->id, c->peer, reason);
        client_goodbye(s, c, reason);
        client_flush(s, c);
        return;
    }
    c->admitted = 1;
    s->admitted++;
    log_info("client %lu connected from %s", c->id, c->peer);
    frame_clock(s, c);
}
