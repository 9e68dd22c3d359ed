/* s3_files.c: what the credential sources share: the shared files
 * (~/.aws/credentials, ~/.aws/config) read as INI text, the region from the
 * environment or the profile, clearing credentials (their secrets are
 * overwritten before they are freed), reading the environment, trimming,
 * and the capped body of the credential endpoints' and STS's answers. */
#include "s3_int.h"

#include "restoredrill/fs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX ((size_t)1024 * 1024)

const char *s3_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

char *s3_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

void s3_creds_clear(s3_creds *c)
{
    if (!c)
        return;
    free(c->key_id);
    if (c->secret)
        memset(c->secret, 0, strlen(c->secret));
    free(c->secret);
    if (c->token)
        memset(c->token, 0, strlen(c->token));
    free(c->token);
    memset(c, 0, sizeof *c);
}

/* Path of a shared file: the variable, else ~/.aws/NAME. Heap or NULL. */
char *s3_shared_file(const char *var, const char *name)
{
    if (s3_env(var))
        return rd_strdup(s3_env(var));
    const char *home = s3_env("HOME");
    return home ? rd_asprintf("%s/.aws/%s", home, name) : NULL;
}

/* The value of key in section [want] of an INI file; heap or NULL. */
char *s3_ini_get(const char *text, const char *want, const char *key)
{
    char *copy = rd_strdup(text), *result = NULL, *next = NULL;
    int in = 0;
    if (!copy)
        return NULL;
    for (char *line = copy; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *l = s3_trim(line);
        if (*l == '#' || *l == ';' || !*l)
            continue;
        if (*l == '[') {
            char *end = strchr(l, ']');
            if (end) {
                *end = '\0';
                in = strcmp(s3_trim(l + 1), want) == 0;
            }
            continue;
        }
        char *eq = strchr(l, '=');
        if (!in || !eq)
            continue;
        *eq = '\0';
        if (strcmp(s3_trim(l), key) == 0) {
            free(result);
            result = rd_strdup(s3_trim(eq + 1));
        }
    }
    free(copy);
    return result;
}

char *s3_read_small(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (!path || !rd_fs_exists(path) || rd_fs_read_file(path, FILE_MAX, &data, &len, NULL) != RD_OK)
        return NULL;
    return data;
}

char *s3_region_from_env(void)
{
    if (s3_env("AWS_REGION"))
        return rd_strdup(s3_env("AWS_REGION"));
    if (s3_env("AWS_DEFAULT_REGION"))
        return rd_strdup(s3_env("AWS_DEFAULT_REGION"));
    const char *profile = s3_env("AWS_PROFILE") ? s3_env("AWS_PROFILE") : "default";
    char *fpath = s3_shared_file("AWS_CONFIG_FILE", "config"), *ftext = s3_read_small(fpath);
    char *section =
        strcmp(profile, "default") == 0 ? rd_strdup("default") : rd_asprintf("profile %s", profile);
    char *region = ftext && section ? s3_ini_get(ftext, section, "region") : NULL;
    free(fpath);
    free(ftext);
    free(section);
    if (region && !*region) {
        free(region);
        region = NULL;
    }
    return region;
}

size_t s3_capped_write(char *buf, size_t size, size_t nitems, void *ud)
{
    s3_capped_body *b = ud;
    size_t n = size * nitems;
    if (b->out->len + n > b->max || rd_strbuf_append_n(b->out, buf, n, NULL) != RD_OK) {
        b->overflow = 1;
        return 0;
    }
    return n;
}
