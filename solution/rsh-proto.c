/* rsh-proto.c - a client's view of one remote-shell answer (see rsh-proto.h). */
#include "rsh-proto.h"

#include <stdlib.h>
#include <string.h>

/* name_type - the type byte as a reader would name it: 'O', or 0x00. */
static void name_type(char *out, size_t cap, unsigned char type)
{
    if (type >= 0x20 && type < 0x7f)
        snprintf(out, cap, "'%c'", type);
    else
        snprintf(out, cap, "0x%02x", type);
}

int rsh_answer_take(struct rsh_answer *ans, const unsigned char *body, uint32_t len)
{
    char type[8];
    unsigned char *p;

    if (len == 0) {
        snprintf(ans->error, sizeof ans->error, "an empty frame (length 0) from the server");
        return RSH_ANSWER_ERROR;
    }
    switch (body[0]) {
    case RSH_EXIT:
        if (len != 1 + RSH_STATUS_SIZE)
            break;
        ans->status = rsh_get_status(body + 1);
        return RSH_ANSWER_DONE;
    case RSH_STDOUT:
        if ((p = realloc(ans->out, ans->out_len + len)) == NULL) {
            snprintf(ans->error, sizeof ans->error, "out of memory");
            return RSH_ANSWER_ERROR;
        }
        ans->out = p;
        memcpy(ans->out + ans->out_len, body + 1, len - 1);
        ans->out_len += len - 1;
        return RSH_ANSWER_MORE;
    case RSH_STDERR:
        ans->err_len += len - 1;
        return RSH_ANSWER_MORE;
    case RSH_ERROR:
        snprintf(ans->error, sizeof ans->error, "server error: %.*s",
                 len - 1 > 150 ? 150 : (int)len - 1, (const char *)body + 1);
        return RSH_ANSWER_ERROR;
    }
    name_type(type, sizeof type, body[0]);
    snprintf(ans->error, sizeof ans->error, "unexpected frame from the server: type %s, "
             "length %lu", type, (unsigned long)len);
    return RSH_ANSWER_ERROR;
}

void rsh_answer_free(struct rsh_answer *ans)
{
    free(ans->out);
    memset(ans, 0, sizeof *ans);
}
