/* evidence_redact.c: the configuration with secrets removed, for the
 * evidence pack. Works on the file as written (before ${VAR} expansion), so
 * no environment value can reach the pack. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/config.h"
#include "restoredrill/evidence.h"
#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"

#define REDACTED "[redacted]"

/* A key whose value is a secret itself (not the name of a variable that
 * holds one: "password_env" stays). */
static int secret_key(const char *key)
{
    static const char *const words[] = {"password",   "passwd",  "secret", "token", "webhook",
                                        "credential", "api_key", "apikey", NULL};
    char low[128];
    size_t n = 0;
    if (!key)
        return 0;
    for (; key[n] && n < sizeof low - 1; n++)
        low[n] = (char)tolower((unsigned char)key[n]);
    low[n] = '\0';
    if (n >= 4 && strcmp(low + n - 4, "_env") == 0)
        return 0;
    for (size_t i = 0; words[i]; i++)
        if (strstr(low, words[i]))
            return 1;
    return 0;
}

/* ${NAME:-default} -> ${NAME:-[redacted]}; ${NAME} stays. NULL on OOM. */
static char *redact_defaults(const char *s, int *changed)
{
    rd_strbuf sb;
    rd_status st = RD_OK;
    rd_strbuf_init(&sb, 1024 * 1024);
    const char *p = s;
    while (*p && st == RD_OK) {
        const char *open = strstr(p, "${");
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            st = rd_strbuf_append(&sb, p, NULL);
            break;
        }
        const char *dflt = strstr(open, ":-");
        st = rd_strbuf_append_n(&sb, p, (size_t)(open - p), NULL);
        if (st == RD_OK && dflt && dflt < close) {
            st = rd_strbuf_append_n(&sb, open, (size_t)(dflt + 2 - open), NULL);
            if (st == RD_OK)
                st = rd_strbuf_append(&sb, REDACTED "}", NULL);
            *changed = 1;
        } else if (st == RD_OK) {
            st = rd_strbuf_append_n(&sb, open, (size_t)(close + 1 - open), NULL);
        }
        p = close + 1;
    }
    if (st != RD_OK) {
        rd_strbuf_free(&sb);
        return NULL;
    }
    return rd_strbuf_detach(&sb);
}

static int walk(cJSON *node, size_t *count)
{
    for (cJSON *it = node ? node->child : NULL; it; it = it->next) {
        if (cJSON_IsString(it)) {
            char *repl = NULL;
            int changed = 0;
            if (secret_key(it->string)) {
                if (!(repl = rd_strdup(REDACTED)))
                    return 0;
                changed = 1;
            } else {
                char *d = strstr(it->valuestring, "${") ? redact_defaults(it->valuestring, &changed)
                                                        : rd_strdup(it->valuestring);
                size_t cap = d ? strlen(d) + 64 : 0;
                if (!d || !(repl = malloc(cap))) {
                    free(d);
                    return 0;
                }
                rd_redact(d, repl, cap);
                changed |= strcmp(d, repl) != 0;
                free(d);
            }
            if (changed) {
                (*count)++;
                if (!cJSON_SetValuestring(it, repl)) {
                    free(repl);
                    return 0;
                }
            }
            free(repl);
        } else if ((cJSON_IsObject(it) || cJSON_IsArray(it)) && !walk(it, count)) {
            return 0;
        }
    }
    return 1;
}

rd_status rd_evidence_redact_config(const char *text, char **out, size_t *redacted, rd_error *err)
{
    cJSON *root = NULL;
    size_t count = 0;
    char *doc = NULL;
    rd_status st = rd_cfg_parse_text(text, &root, err);
    if (st != RD_OK)
        return RD_ERR(err, RD_ERR_FORMAT, "%s", err ? err->msg : "not a configuration");
    if (!walk(root, &count) || !(doc = cJSON_Print(root))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory redacting the configuration");
        goto out;
    }
    if (!(*out = rd_asprintf("%s\n", doc))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory redacting the configuration");
        goto out;
    }
    if (redacted)
        *redacted = count;
out:
    cJSON_free(doc);
    cJSON_Delete(root);
    return st;
}
