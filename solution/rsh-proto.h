/*
 * rsh-proto.h - the remote shell's wire protocol, shared by rsh-server and
 * rsh-client. The bytes on the wire are the contract; this header only
 * names them.
 *
 * Every message is a frame (frame.h): u32 length L, big-endian, then L
 * bytes of body. The first body byte is the message type, the rest is its
 * payload.
 *
 *   client -> server
 *     'A' token          first frame of every connection: the server's token,
 *                        64 lowercase hex digits                 (L = 65)
 *     'C' command text   run it with /bin/sh -c           (1 <= L <= 65537)
 *   server -> client, for each command, in this order:
 *     'O' bytes          a chunk of the command's stdout  (0 or more frames;
 *                        an empty one is allowed, and carries nothing)
 *     'E' bytes          a chunk of its stderr            (interleaved with 'O')
 *     'X' status         the command ended: 4-byte signed big-endian,
 *                        0..255 exit code, -N if killed by signal N
 *     '!' text           the server ends the connection, and why: a protocol
 *                        error, no or a wrong token, idle, busy, too slow,
 *                        stopping; then it closes
 *
 * Byte by byte, a connection that runs "echo hi":
 *
 *   00 00 00 41  'A' '3' 'f' ... (64 hex digits)    client: L = 1 + 64
 *   00 00 00 08  'C' 'e' 'c' 'h' 'o' ' ' 'h' 'i'    client: L = 1 + 7
 *   00 00 00 04  'O' 'h' 'i' '\n'                   server: L = 1 + 3
 *   00 00 00 05  'X' 00 00 00 00                    server: exit status 0
 *
 * The token. Anyone on this machine can connect to 127.0.0.1, so the port
 * alone lets every local user run commands as the server's user. At start
 * the server draws 32 random bytes from /dev/urandom and writes them, as 64
 * hex digits and a newline, to a file only its owner can read (mode 0600)
 * in a directory only its owner can enter (mode 0700):
 *     $XDG_RUNTIME_DIR/rsh/token-PORT, or /tmp/rsh-UID/token-PORT
 * (rsh_token_path). A client of the same user reads it and sends it in an
 * 'A' frame before anything else; the server compares it in constant time
 * and answers nothing when it is right - the commands may follow in the
 * same write. Anything else first (no 'A', a wrong token), or no complete
 * frame within --frame-timeout of connecting: one '!' frame, then a close.
 * The server removes the file when it stops (not after SIGKILL; the next
 * server on that port replaces it). `rsh-server --no-auth` skips all this,
 * and says loudly what that allows; it still accepts an 'A' frame.
 *
 * Commands on one connection are answered one at a time, in order, and a
 * client may send several before reading any answer (pipelining).
 *
 * Half-close. A client may shutdown() its sending side once it has sent its
 * last command: the server still runs every command it received whole and
 * sends every answer, then closes (a partial frame at that point is an
 * error). TCP cannot tell such a client from one that closed altogether or
 * died, until the server writes to it: a closed socket answers data with a
 * reset. So while a half-closed client's command is silent, the server sends
 * it an empty 'O' frame now and then (and before each further command): a
 * client that is really gone is found at once, and its command is killed
 * and its queued commands dropped, as for a reset.
 *
 * Background jobs. The answer ends when the shell has exited and its stdout
 * and stderr have reached EOF; its status is the shell's. A background job
 * (`sleep 80 &`) inherits the pipes and keeps them open: the server waits
 * for it at most --linger seconds after the shell's exit (default 2), then
 * says so in an 'E' frame, kills the command's process group and sends the
 * 'X' with the shell's status. A job that redirects its output
 * (`nohup job >/dev/null 2>&1 &`) does not hold the answer and is left to run.
 *
 * Ending early. Whenever the server ends a connection of its own accord it
 * sends a '!' frame with the reason first - after the frame it was in the
 * middle of sending, so the stream stays whole: "client too slow" (it took
 * no output for --timeout), "idle", "server busy", "server stopping". A
 * command past --timeout is killed and its answer says so in an 'E' frame,
 * then 'X' with -9. There is no --timeout by default (as in ssh).
 *
 * The server's own end. SIGTERM, SIGINT, SIGHUP (its terminal closed) and
 * SIGQUIT stop it cleanly: each client gets a '!' frame, each command's
 * process group is killed, the token file is removed. SIGKILL cannot be
 * caught. On Linux each shell asked, before exec, to be killed when the
 * server dies (PR_SET_PDEATHSIG); that reaches the shell only: what it
 * started (a pipeline, a background job) lives on until it writes to its
 * output, whose reader is gone (SIGPIPE), or ends by itself. Elsewhere the
 * shells live on too. The token file stays: it opens nothing once its
 * server is gone, and the next server on that port replaces it.
 */
#ifndef RSH_PROTO_H
#define RSH_PROTO_H

#include <stdint.h>
#include <stdio.h>

#include "frame.h"

#define RSH_DEFAULT_HOST "127.0.0.1"
#define RSH_DEFAULT_PORT 8081

/* Message types: the first byte of every frame body. */
#define RSH_COMMAND 'C'
#define RSH_STDOUT 'O'
#define RSH_STDERR 'E'
#define RSH_EXIT 'X'
#define RSH_ERROR '!'
#define RSH_AUTH 'A'

#define RSH_MAX_COMMAND 65536                 /* bytes of command text */
#define RSH_MAX_REQUEST (1 + RSH_MAX_COMMAND) /* largest body a server accepts */
#define RSH_MAX_REPLY (1024 * 1024 + 1)       /* largest body a client accepts */
#define RSH_STATUS_SIZE 4                     /* payload of an 'X' frame */
#define RSH_TOKEN_BYTES 32                    /* random bytes in a token */
#define RSH_TOKEN_HEX (2 * RSH_TOKEN_BYTES)   /* payload of an 'A' frame: 64 hex digits */
#define RSH_AUTH_ERR_LEN 512                  /* err buffers of the functions below */
#define RSH_PATH_LEN 512                      /* a token file's path */

/* rsh_put_status - a status as 4 bytes, signed, big-endian (two's complement). */
static inline void rsh_put_status(unsigned char out[RSH_STATUS_SIZE], int32_t status)
{
    frame_put_length(out, (uint32_t)status);
}

/* rsh_get_status - read the 4-byte signed big-endian status of an 'X' frame. */
static inline int32_t rsh_get_status(const unsigned char in[RSH_STATUS_SIZE])
{
    uint32_t u = frame_get_length(in);

    /* Converting a u32 above INT32_MAX to int32_t is implementation-defined
     * in C; this spelling is exact on every machine. */
    return u <= INT32_MAX ? (int32_t)u : -(int32_t)(UINT32_MAX - u) - 1;
}

/*
 * rsh_exit_code - the exit code a shell would show for a status: the code
 * itself for 0..255, 128+N for a command killed by signal N (as sh and ssh
 * do), 255 for anything else.
 */
static inline int rsh_exit_code(int32_t status)
{
    if (status >= 0 && status <= 255)
        return status;
    if (status < 0 && status > -128)
        return 128 - status;
    return 255;
}

/*
 * rsh_describe_length - explain, in one line, why the reader r refused a
 * frame header (frame_describe_length). A length that is really text tells
 * the reader what is talking to the port: "GET " from a web browser reads as
 * length 1195725856. The text goes into out (capacity cap).
 */
static inline void rsh_describe_length(char *out, size_t cap, const struct frame_reader *r,
                                       uint32_t limit)
{
    frame_describe_length(out, cap, r->bad_length, r->bad_known, limit);
}

/* ---- a client's view of one answer (rsh-proto.c) ---- */

/* One answer of the remote shell, gathered from its frames. */
struct rsh_answer {
    unsigned char *out; /* its stdout ('O' frames), malloc'd: rsh_answer_free */
    size_t out_len;
    size_t err_len;     /* bytes of stderr ('E' frames): counted, not kept */
    int32_t status;     /* from the 'X' frame: exit code, or -N for signal N */
    char error[200];    /* after RSH_ANSWER_ERROR: why, in one line */
};

enum { RSH_ANSWER_ERROR = -1, RSH_ANSWER_MORE = 0, RSH_ANSWER_DONE = 1 };

/*
 * rsh_answer_take - use one frame (body, len) of an answer. Returns
 * RSH_ANSWER_DONE at its 'X' frame, RSH_ANSWER_MORE for an 'O' or 'E'
 * frame, or RSH_ANSWER_ERROR for a '!' frame, a frame of another type or
 * length, or no memory (ans->error says which). Start with a zeroed answer.
 */
int rsh_answer_take(struct rsh_answer *ans, const unsigned char *body, uint32_t len);

/* rsh_answer_free - release the stdout bytes; the answer is zeroed. */
void rsh_answer_free(struct rsh_answer *ans);

/* ---- the token (rsh-auth.c) ----
 * Each function that can fail returns -1 and writes why, in one line, into
 * err (RSH_AUTH_ERR_LEN bytes); none prints or exits. */

/* rsh_token_path - where the token of the server on port lives:
 * $XDG_RUNTIME_DIR/rsh/token-PORT, or /tmp/rsh-UID/token-PORT. Returns 0 or -1. */
int rsh_token_path(char *err, char *out, size_t cap, int port);

/*
 * rsh_token_create - a new random token (64 hex digits, from /dev/urandom)
 * in the file path, mode 0600, written under another name and renamed into
 * place, so a reader never sees half of it. With private_dir, the file's
 * directory is created (mode 0700) if missing, and refused if it is not a
 * directory of ours that only we can enter. Returns 0, or -1.
 */
int rsh_token_create(char *err, const char *path, int private_dir, char token[RSH_TOKEN_HEX + 1]);

/*
 * rsh_token_read - the token in the file path. The file must be ours and
 * readable by nobody else (and, with private_dir, so must its directory):
 * a token others can read is no secret, and a file someone else made may
 * lead us to their server. Returns 1 with the token, 0 if there is no such
 * file (no server of ours there: send no token), or -1.
 */
int rsh_token_read(char *err, const char *path, int private_dir, char token[RSH_TOKEN_HEX + 1]);

/* rsh_token_equal - compare n bytes in a time that does not depend on where
 * they differ (a guesser learns nothing from how fast a wrong token fails). */
int rsh_token_equal(const void *a, const void *b, size_t n);

/*
 * rsh_send_auth - for a client connected on fd to host:port: send the 'A'
 * frame with the token of the server on that port, if the peer is this
 * machine (a local token is never sent elsewhere) and the file exists.
 * Returns 1 if it sent one, 0 if there was none to send (a server that
 * wants one will say so in a '!' frame), -1 with err set.
 */
int rsh_send_auth(char *err, int fd, const char *host, int port);

#endif
