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
 *     'C' command text   run it with /bin/sh -c           (1 <= L <= 65537)
 *   server -> client, for each command, in this order:
 *     'O' bytes          a chunk of the command's stdout  (0 or more frames)
 *     'E' bytes          a chunk of its stderr            (interleaved with 'O')
 *     'X' status         the command ended: 4-byte signed big-endian,
 *                        0..255 exit code, -N if killed by signal N
 *     '!' text           protocol error; then the server closes
 *
 * Byte by byte, the command "echo hi" and its answer:
 *
 *   00 00 00 08  'C' 'e' 'c' 'h' 'o' ' ' 'h' 'i'    client: L = 1 + 7
 *   00 00 00 04  'O' 'h' 'i' '\n'                   server: L = 1 + 3
 *   00 00 00 05  'X' 00 00 00 00                    server: exit status 0
 *
 * Commands on one connection are answered one at a time, in order, and a
 * client may send several before reading any answer (pipelining). Closing
 * the connection - even only its sending half - means the client is gone:
 * the server kills the running command and drops the queued ones. So a
 * pipelining client keeps its side open until it has read the last 'X'.
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

#define RSH_MAX_COMMAND 65536                 /* bytes of command text */
#define RSH_MAX_REQUEST (1 + RSH_MAX_COMMAND) /* largest body a server accepts */
#define RSH_MAX_REPLY (1024 * 1024 + 1)       /* largest body a client accepts */
#define RSH_STATUS_SIZE 4                     /* payload of an 'X' frame */

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

#endif
