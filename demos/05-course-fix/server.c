/*
 * Demo 5, the course's own fix, ported faithfully: before each answer the
 * server sends struct.pack('i', total) - 4 bytes, native byte order, signed -
 * then stdout, then stderr: three sends.
 */
#include "demo.h"
#include "timing.h"
#include "shell.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#ifdef __linux__
#include <linux/sockios.h> /* SIOCOUTQNSD */
#endif

#define USAGE "usage: 05-course-fix-server [--host ADDR] [--port N] [--full] [--sync]\n" \
              "  runs every command it receives with /bin/sh -c: keep it on 127.0.0.1"

/* unsent - bytes the kernel holds in the send queue, not yet sent (Linux). */
static long unsent(int fd)
{
#ifdef SIOCOUTQNSD
    int n = 0;
    return ioctl(fd, SIOCOUTQNSD, &n) == 0 ? n : -1;
#else
    (void)fd;
    return -1; /* not available on this system */
#endif
}

static void serve(struct trace *t, int conn);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, DEMO_RUNS_COMMANDS, 0);

    serve_clients(&a, serve); /* one client after another, as the notes' server does */
    return 0;
}

/* serve - the notes' command loop, until the client closes. */
static void serve(struct trace *t, int conn)
{
    char cmd[1025];

    t->wait_s = DEMO_WAIT_PERSON_S; /* in class, a person types the next command */
    for (;;) {
        size_t n = demo_recv(t, conn, cmd, 1024); /* cmd = conn.recv(1024) */
        if (n == 0)
            return;
        cmd[n] = '\0';
        size_t len, out_len;
        char *out = demo_run_shell(cmd, &len, &out_len);

        int32_t total = (int32_t)len;
        char header[4];
        memcpy(header, &total, 4); /* struct.pack('i', total): this machine's byte order */
        demo_send(t, conn, header, 4);                /* conn.send(header) */
        demo_send(t, conn, out, out_len);             /* conn.send(stdout) */
        /* Did stdout leave, or is Nagle holding it until the header is ACKed? */
        if (!t->quiet)
            demo_fact("unsent_after_stdout_send", "%ld", unsent(conn));
        if (len > out_len)                            /* (send(b"") sends nothing) */
            demo_send(t, conn, out + out_len, len - out_len); /* conn.send(stderr) */
        free(out);
    }
}
