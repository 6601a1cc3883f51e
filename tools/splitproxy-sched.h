/*
 * splitproxy-sched.h - the schedules of tools/splitproxy.c: parse a
 * schedule's text, and decide how many queued bytes the next write of a
 * direction carries, and when; and the usage text that names them.
 * Included by splitproxy.c alone: the Makefile builds each tools/NAME.c into
 * bin/NAME on its own, so this part of the program lives in a header of
 * static functions rather than a second .c.
 */
#ifndef SPLITPROXY_SCHED_H
#define SPLITPROXY_SCHED_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_BOUND (256 * 1024) /* stop reading a side while its queue holds this much */
#define HOLD_MS 10               /* random: a stalled sender's held bytes go out after this */
#define COALESCE_MS 50           /* coalesce: default longest hold */
#define SETTLE_WAIT_MS 10000     /* longest wait for the receiver to take a write: then go on */

/* USAGE - splitproxy --help: the options, and the schedules this file implements. */
#define USAGE \
"usage: splitproxy --listen PORT --to HOST:PORT [--up SCHED] [--down SCHED]\n" \
"                  [--seed N] [--gap MS] [--pass-first N] [--host ADDR]\n" \
"                  [--quiet] [--full]\n" \
"Forwards TCP connections to HOST:PORT, re-cutting the bytes of each direction:\n" \
"--up (client to server) and --down (server to client), default pass.\n" \
"  pass              forward as read\n" \
"  drip[:MS]         one byte per write, MS ms apart (default: --gap)\n" \
"  coalesce[:N][:MSms]  hold bytes until N are held or MS ms have passed since\n" \
"                    the first (default 50ms), then send them in one write\n" \
"  split-at:A,B,...  writes end exactly at stream offsets A, B...; else as read\n" \
"  random[:SEED]     pieces of 1 to 256 bytes drawn from SEED (default --seed):\n" \
"                    the same bytes are cut at the same places (and where the\n" \
"                    sender stops for 10 ms mid-piece); pauses of 0-3 ms more\n" \
"  eof-after:N       forward N bytes, then close that direction (a FIN, even\n" \
"                    inside a frame); the other direction runs to its end\n" \
"  reset-after:N     forward N bytes, then reset both sides (RST)\n" \
"  --listen PORT     0 picks a free port; first stdout line: listening on H:P\n" \
"  --gap MS          after each write of a re-cut stream, wait until the receiver\n" \
"                    has read the bytes (Linux: its socket's receive queue is\n" \
"                    empty; elsewhere: its kernel has them), then MS ms more (2)\n" \
"  --pass-first N    the first N bytes of a connection go as they come (a token);\n" \
"                    the schedules start after them\n" \
"  --quiet           print only the listening line and errors\n" \
"  --full            print every byte of a write, never abbreviate\n" \
"Where reads cannot be seen, a receiver slower than the gap gets the pieces merged.\n"

enum kind { PASS, DRIP, COALESCE, SPLIT, RANDOM, EOF_AFTER, RESET_AFTER };

struct sched {
    enum kind kind;
    long ms;              /* drip pause, coalesce hold; -1: the default */
    uint64_t count;       /* coalesce bytes (0: no byte bound), eof-/reset-after N */
    uint64_t seed;
    uint64_t *cuts;       /* split-at offsets, ascending */
    size_t ncuts;
    const char *text;     /* as given */
    uint64_t skip;        /* --pass-first: bytes that go as they come before the schedule starts */
};

struct dir {
    const char *name, *side, *from, *to; /* "up", "proxy-up", "client", "server" */
    struct sched *s;
    int in, out;           /* descriptors: read from in, write to out */
    unsigned char *buf;    /* queued bytes: buf[start..end) */
    size_t start, end, cap;
    uint64_t at;           /* stream offset of the next byte written */
    int sends;
    int in_eof, shut, cut, blocked;
    int64_t not_before;    /* no write before this time (ms) */
    int64_t settle_until;  /* waiting for the receiver to take a write until then; 0: not */
    int64_t settle_from;   /* when that wait began */
    int peer_seen;         /* the receiving socket was found in /proc/net/tcp once */
    int peer_missed;       /* times in a row it was not found since */
    long pause;            /* the gap to keep once the receiver has taken the bytes */
    int64_t first_held, last_read; /* when the oldest held / the last byte arrived */
    uint64_t rng, next_cut;
    long next_pause;
    size_t cut_i;
};

/* wake_at - look again at t at the latest (*wake: the soonest time any direction asked for; -1: none). */
static void wake_at(int64_t *wake, int64_t t)
{
    if (*wake < 0 || t < *wake)
        *wake = t;
}

/* splitmix64 - a small seeded PRNG of our own: the same numbers on every libc. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* draw_cut - the next random piece, 1 to 256 bytes: often tiny (headers get
 * cut), sometimes a few frames long; about 40 bytes on average. */
static void draw_cut(struct dir *d)
{
    static const uint64_t sizes[4] = {4, 16, 64, 256};
    uint64_t r = splitmix64(&d->rng);

    d->next_cut = d->at + 1 + (r >> 8) % sizes[r & 3];
    d->next_pause = (long)((r >> 4) & 3);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_cuts(struct sched *s, char *list)
{
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        uint64_t v, *p = realloc(s->cuts, (s->ncuts + 1) * sizeof *p);
        if (!p || parse_u64(tok, &v) < 0 || (s->ncuts && v <= p[s->ncuts - 1])) {
            s->cuts = p;
            return -1; /* offsets must be ascending */
        }
        s->cuts = p;
        s->cuts[s->ncuts++] = v;
    }
    return s->ncuts ? 0 : -1;
}

/* parse_coalesce - "coalesce", "coalesce:N", "coalesce:MSms", "coalesce:N:MSms". */
static int parse_coalesce(struct sched *s, char *args)
{
    for (char *tok = strtok(args, ":"); tok; tok = strtok(NULL, ":")) {
        size_t len = strlen(tok);
        uint64_t v;
        if (len > 2 && strcmp(tok + len - 2, "ms") == 0) {
            tok[len - 2] = '\0';
            if (parse_u64(tok, &v) < 0 || v > 3600000)
                return -1;
            s->ms = (long)v;
        } else if (parse_u64(tok, &v) < 0 || v == 0) {
            return -1;
        } else {
            s->count = v;
        }
    }
    return 0;
}

/* parse_sched - a schedule's text; returns 0, or -1 if it means nothing. */
static int parse_sched(struct sched *s, const char *text, uint64_t default_seed)
{
    static char copy[4096];
    uint64_t v;

    if (strlen(text) >= sizeof copy)
        return -1;
    strcpy(copy, text);
    char *colon = strchr(copy, ':'), *args = colon ? colon + 1 : NULL;
    if (colon)
        *colon = '\0';
    memset(s, 0, sizeof *s);
    s->text = text;
    s->ms = -1;
    s->seed = default_seed;
    if (!strcmp(copy, "pass") && !args)
        s->kind = PASS;
    else if (!strcmp(copy, "drip"))
        s->kind = DRIP;
    else if (!strcmp(copy, "coalesce"))
        return s->kind = COALESCE, args ? parse_coalesce(s, args) : 0;
    else if (!strcmp(copy, "split-at") && args)
        return s->kind = SPLIT, parse_cuts(s, args);
    else if (!strcmp(copy, "random"))
        return s->kind = RANDOM, args ? parse_u64(args, &s->seed) : 0;
    else if (!strcmp(copy, "eof-after") && args)
        return s->kind = EOF_AFTER, parse_u64(args, &s->count);
    else if (!strcmp(copy, "reset-after") && args)
        return s->kind = RESET_AFTER, parse_u64(args, &s->count);
    else
        return -1;
    if (args && (parse_u64(args, &v) < 0 || v > 60000))
        return -1;
    s->ms = args ? (long)v : -1;
    return 0;
}

/*
 * next_write - how many queued bytes the next write carries, now; 0 if none
 * yet. *wake gets the time to look again when it is a matter of waiting.
 */
static size_t next_write(struct dir *d, int64_t now, int64_t *wake)
{
    size_t avail = d->end - d->start;
    struct sched *s = d->s;
    int64_t until;

    if (avail == 0 || d->cut)
        return 0;
    if (now < d->not_before)
        return wake_at(wake, d->not_before), 0;
    if (d->at < s->skip && s->kind != EOF_AFTER && s->kind != RESET_AFTER)
        return s->skip - d->at < avail ? (size_t)(s->skip - d->at) : avail; /* --pass-first */
    switch (s->kind) {
    case DRIP:
        return 1;
    case SPLIT:
        while (d->cut_i < s->ncuts && s->cuts[d->cut_i] <= d->at)
            d->cut_i++;
        if (d->cut_i < s->ncuts && s->cuts[d->cut_i] - d->at < avail)
            return (size_t)(s->cuts[d->cut_i] - d->at);
        return avail;
    case COALESCE:
        until = d->first_held + (s->ms >= 0 ? s->ms : COALESCE_MS);
        if ((s->count && avail >= s->count) || d->in_eof || avail >= QUEUE_BOUND || now >= until)
            return avail;
        return wake_at(wake, until), 0;
    case RANDOM:
        if (d->next_cut - d->at <= avail)
            return (size_t)(d->next_cut - d->at);
        if (d->in_eof || now >= d->last_read + HOLD_MS)
            return avail; /* the sender stopped mid-piece: it waits for an answer */
        return wake_at(wake, d->last_read + HOLD_MS), 0;
    case EOF_AFTER:
    case RESET_AFTER:
        return s->count - d->at < avail ? (size_t)(s->count - d->at) : avail;
    default:
        return avail;
    }
}

/* after_write - the pause a re-cut stream takes after each write: first until
 * the receiver has taken the bytes (splitproxy-peer.h), then `gap` ms. */
static void after_write(struct dir *d, int64_t now, long gap)
{
    long pause = gap;

    if (d->s->kind == PASS || d->s->kind == EOF_AFTER || d->s->kind == RESET_AFTER)
        return;
    if (d->at <= d->s->skip) { /* --pass-first: no cut yet; the schedule starts here */
        if (d->at == d->s->skip && d->s->kind == RANDOM) {
            d->rng = d->s->seed;
            draw_cut(d);
        }
        return;
    }
    if (d->s->kind == DRIP && d->s->ms >= 0)
        pause = d->s->ms;
    if (d->s->kind == RANDOM) {
        if (d->at == d->next_cut) {
            pause += d->next_pause;
            draw_cut(d);
        }
    }
    d->settle_until = now + SETTLE_WAIT_MS;
    d->settle_from = now;
    d->pause = pause;
    d->not_before = now + pause;
}

#endif
