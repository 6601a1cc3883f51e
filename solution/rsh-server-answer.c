/*
 * rsh-server-answer.c - one command's answer (see rsh-server.h): start the
 * command, move its output into the client's queue as 'O' and 'E' frames,
 * and end the answer with its 'X' frame once the shell has exited and both
 * pipes are at EOF - or sooner, at a deadline, saying why in an 'E' frame.
 *
 * The answer's status is the shell's. Background jobs inherit the pipes,
 * and EOF comes only when the last of them closes its copy; the server
 * waits --linger seconds for that after the shell's exit, then kills the
 * process group (rsh-proto.h, "Background jobs").
 */
#include "rsh-server.h"
#include "rsh-proto.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* queue_output - queue a frame for the client; without memory, drop the client. */
static void queue_output(struct client *c, char type, const void *p, size_t n)
{
    if (outq_put_frame(&c->out, type, p, n) < 0)
        client_drop(c, "dropped: out of memory");
}

/* command_not_started - spawning failed (no processes or descriptors left):
 * answer with an 'E' frame saying why, and status 255. There is no process:
 * nothing to kill, to reap or to time out. */
static void command_not_started(struct client *c, int error)
{
    char msg[160];
    int n = snprintf(msg, sizeof msg, "rsh-server: cannot start the command: %s\n",
                     strerror(error));

    log_problem("client %lu: cannot start a command: %s", c->id, strerror(error));
    memset(&c->cmd, 0, sizeof c->cmd);
    c->cmd.pidfd = c->cmd.out_fd = c->cmd.err_fd = -1;
    c->cmd.reaped = 1; /* finished already: answer_step() sends the 'X' */
    c->cmd.status = 255;
    queue_output(c, RSH_STDERR, msg, (size_t)n);
}

/* answer_start - start the command of a 'C' frame (body, len). Returns 1 if
 * the client is still being served. */
int answer_start(struct server *s, struct client *c, const unsigned char *body, uint32_t len)
{
    char *text;
    int error;

    /* A half-closed client may be gone for good: ask before starting more. */
    if (c->input_eof) {
        client_probe(s, c);
        if (c->state != CLIENT_SERVING)
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
    if (command_start(&c->cmd, text, s->opt.timeout_ms ? s->now + s->opt.timeout_ms : 0) < 0) {
        error = errno;
        command_not_started(c, error);
    } else if (c->cmd.pidfd < 0) {
        s->untracked++; /* no pidfd: SIGCHLD and waitpid(-1) will reap it */
        s->reap_pending = 1;
    }
    free(text);
    return c->state == CLIENT_SERVING;
}

/* command_timed_out - past --timeout: kill the group, say so on stderr. */
static void command_timed_out(struct server *s, struct client *c)
{
    char msg[200];
    double limit = (double)s->opt.timeout_ms / 1000;
    int n;

    if (!c->cmd.reaped) {
        c->cmd.timed_out = 1; /* its status is the kill's, -9 */
        n = snprintf(msg, sizeof msg, "rsh-server: command timed out after %g s; killed\n", limit);
    } else {
        n = snprintf(msg, sizeof msg, "rsh-server: the shell exited with status %d, but its "
                     "background jobs still ran after %g s (--timeout): killed them\n",
                     (int)c->cmd.status, limit);
    }
    c->cmd.deadline = 0;
    command_kill(&c->cmd);
    log_info("client %lu: command timed out; killed process group %ld", c->id,
             (long)c->cmd.pid);
    queue_output(c, RSH_STDERR, msg, (size_t)n);
}

/* linger_over - the shell exited --linger seconds ago and something of its
 * group still holds its output open: end the answer, and the group. */
static void linger_over(struct server *s, struct client *c)
{
    char msg[300];
    int n = snprintf(msg, sizeof msg, "rsh-server: the shell exited with status %d, but "
                     "background jobs still held its output open %g s later: killed its "
                     "process group (a job that should run on must not hold the output: "
                     "job >/dev/null 2>&1 &)\n", (int)c->cmd.status,
                     (double)s->opt.linger_ms / 1000);

    command_kill(&c->cmd);
    log_info("client %lu: background jobs held the output after the shell's exit; killed "
             "process group %ld", c->id, (long)c->cmd.pid);
    queue_output(c, RSH_STDERR, msg, (size_t)n);
}

/*
 * answer_step - move the running command's answer along: kill a command
 * past its deadline, or background jobs past --linger; once the shell is
 * reaped and both pipes are at EOF, queue the 'X'. Returns 1 if the answer
 * is complete (and the client still served), 0 if it goes on.
 */
int answer_step(struct server *s, struct client *c)
{
    struct command *cmd = &c->cmd;
    unsigned char status[RSH_STATUS_SIZE];

    if (cmd->pid > 1 && cmd->deadline && s->now >= cmd->deadline)
        command_timed_out(s, c);
    if (cmd->reaped && (cmd->out_fd >= 0 || cmd->err_fd >= 0)) {
        /* The --linger clock runs only while we read the pipes: output that
         * waits behind a slow client is not a background job's doing. */
        if (outq_len(&c->out) >= OUTPUT_BOUND)
            cmd->linger_deadline = 0;
        else if (cmd->linger_deadline == 0)
            cmd->linger_deadline = s->now + s->opt.linger_ms;
        if (cmd->linger_deadline && s->now >= cmd->linger_deadline)
            linger_over(s, c);
    }
    if (!command_finished(cmd))
        return 0;
    rsh_put_status(status, cmd->timed_out ? -SIGKILL : cmd->status);
    c->busy = 0;
    queue_output(c, RSH_EXIT, status, sizeof status);
    return c->state == CLIENT_SERVING;
}

/* read_chunk - one chunk of a command's output into the client's queue.
 * Returns 1 if more may be waiting in the pipe, 0 if not: it is empty for
 * now (EAGAIN), or at EOF (every process holding its write end closed it). */
static int read_chunk(struct client *c, int *fd, char type)
{
    ssize_t n;

    if (*fd < 0)
        return 0;
    n = outq_read_frame(&c->out, type, *fd, CHUNK_SIZE);
    if (n > 0)
        return 1;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n < 0 && errno == ENOMEM) {
        client_drop(c, "dropped: out of memory");
        return 0;
    }
    close(*fd);
    *fd = -1;
    return 0;
}

/* answer_read_pipes - read the pipes poll() found ready until they are
 * empty (so no poll() round is spent asking again), a chunk from each in
 * turn, and no further than OUTPUT_BOUND (backpressure). */
void answer_read_pipes(struct client *c, int out_ready, int err_ready)
{
    while ((out_ready || err_ready) && c->state != CLIENT_DROPPED &&
           outq_len(&c->out) < OUTPUT_BOUND) {
        if (out_ready)
            out_ready = read_chunk(c, &c->cmd.out_fd, RSH_STDOUT);
        if (err_ready && outq_len(&c->out) < OUTPUT_BOUND)
            err_ready = read_chunk(c, &c->cmd.err_fd, RSH_STDERR);
    }
}

/* answer_cut - end the connection in the middle of an answer: the frame
 * being sent is finished, the rest is dropped, and a '!' says why. */
void answer_cut(struct server *s, struct client *c, const char *why)
{
    outq_cut(&c->out);
    client_goodbye(s, c, why);
}
