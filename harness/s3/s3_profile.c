/* s3_profile.c: credentials from a named profile of the shared files
 * (~/.aws/credentials, ~/.aws/config), in the order the AWS SDKs use:
 *   1. role_arn: with web_identity_token_file, STS AssumeRoleWithWebIdentity
 *      (unsigned); else with source_profile, STS AssumeRole signed with the
 *      source profile's credentials (resolved the same way, at most 4 deep);
 *      credential_source is refused;
 *   2. sso_* (IAM Identity Center): refused, naming the profile;
 *   3. aws_access_key_id / aws_secret_access_key (/ aws_session_token);
 *   4. credential_process: run without a shell (the command line split like
 *      a POSIX shell's words, no expansion), its JSON read
 *      (Version 1, AccessKeyId, SecretAccessKey, SessionToken, Expiration).
 * Plus AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE from the environment.
 * Nothing a process prints or STS answers is ever logged or put in a message. */
#include "s3_int.h"

#include "restoredrill/clock.h"
#include "restoredrill/config.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROCESS_OUT_MAX ((size_t)64 * 1024)
#define PROCESS_TIMEOUT 60.0
#define MAX_DEPTH 4

typedef struct prof_files {
    char *cpath, *fpath; /* credentials, config */
    char *ctext, *ftext;
} prof_files;

static void files_free(prof_files *f)
{
    free(f->cpath);
    free(f->fpath);
    free(f->ctext);
    free(f->ftext);
}

/* A key of profile p: the credentials file's [p], else the config file's
 * [profile p] ([default] for default). Heap or NULL; empty counts as absent. */
static char *prof_get(const prof_files *f, const char *p, const char *key)
{
    char *v = f->ctext ? s3_ini_get(f->ctext, p, key) : NULL;
    if (!v && f->ftext) {
        char *section =
            strcmp(p, "default") == 0 ? rd_strdup("default") : rd_asprintf("profile %s", p);
        v = section ? s3_ini_get(f->ftext, section, key) : NULL;
        free(section);
    }
    if (v && !*v) {
        free(v);
        v = NULL;
    }
    return v;
}

/* The file that holds key for profile p (for messages). */
static const char *prof_where(const prof_files *f, const char *p, const char *key)
{
    char *v = f->ctext ? s3_ini_get(f->ctext, p, key) : NULL;
    const char *w = v ? f->cpath : f->fpath;
    free(v);
    return w ? w : "~/.aws";
}

/* --- credential_process --- */

rd_status s3_split_command(const char *cmd, rd_strlist *out, rd_error *err)
{
    rd_strbuf w;
    rd_status st = RD_OK;
    int in_word = 0;
    char q = 0;
    rd_strbuf_init(&w, 0);
    for (const char *p = cmd;; p++) {
        char c = *p;
        if (!c) {
            if (q) {
                st = RD_ERR(err, RD_ERR_CONFIG, "credential_process: unterminated %c quote", q);
                break;
            }
            if (in_word)
                st = rd_strlist_push(out, w.data ? w.data : "", err);
            break;
        }
        if (q == '\'') {
            if (c == '\'')
                q = 0;
            else
                st = rd_strbuf_append_n(&w, &c, 1, err);
        } else if (q == '"') {
            if (c == '"')
                q = 0;
            else if (c == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' || p[1] == '`'))
                st = rd_strbuf_append_n(&w, ++p, 1, err);
            else
                st = rd_strbuf_append_n(&w, &c, 1, err);
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) {
                st = rd_strlist_push(out, w.data ? w.data : "", err);
                rd_strbuf_reset(&w);
                in_word = 0;
            }
        } else {
            in_word = 1;
            if (c == '\'' || c == '"')
                q = c;
            else if (c == '\\' && p[1])
                st = rd_strbuf_append_n(&w, ++p, 1, err);
            else
                st = rd_strbuf_append_n(&w, &c, 1, err);
        }
        if (st != RD_OK)
            break;
    }
    rd_strbuf_free(&w);
    if (st == RD_OK && out->n == 0)
        st = RD_ERR(err, RD_ERR_CONFIG, "credential_process: empty command");
    return st;
}

rd_status s3_process_parse(const char *text, size_t len, const char *what, s3_creds *c,
                           rd_error *err)
{
    rd_status st = RD_OK;
    cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "Version");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId");
    const cJSON *secret = cJSON_GetObjectItemCaseSensitive(j, "SecretAccessKey");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(j, "SessionToken");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "Expiration");
    int64_t ms = 0;
    if (!cJSON_IsObject(j)) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: its output is not a JSON object", what);
    } else if (!cJSON_IsNumber(ver) || ver->valuedouble != 1) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: expected \"Version\": 1 in its output", what);
    } else if (!cJSON_IsString(id) || !cJSON_IsString(secret) || !*id->valuestring ||
               !*secret->valuestring) {
        st = RD_ERR(err, RD_ERR_FORMAT,
                    "%s: expected AccessKeyId and SecretAccessKey strings in its output", what);
    } else if (token && !cJSON_IsNull(token) && !cJSON_IsString(token)) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: SessionToken: expected a string", what);
    } else if (exp && !cJSON_IsNull(exp) &&
               (!cJSON_IsString(exp) || rd_time_parse(exp->valuestring, &ms, NULL) != RD_OK)) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: Expiration: expected an RFC 3339 time", what);
    }
    if (st == RD_OK) {
        c->key_id = rd_strdup(id->valuestring);
        c->secret = rd_strdup(secret->valuestring);
        c->token =
            cJSON_IsString(token) && *token->valuestring ? rd_strdup(token->valuestring) : NULL;
        c->expires_ms = ms;
        if (!c->key_id || !c->secret)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    cJSON_Delete(j);
    return st;
}

static rd_status run_process(const char *profile, const char *cmd, s3_creds *c, rd_error *err)
{
    rd_strlist argv = {0};
    const char **av = NULL;
    rd_strbuf out, errtail;
    int code = 0;
    char what[160];
    snprintf(what, sizeof what, "credential_process of profile %s", profile);
    rd_strbuf_init(&out, PROCESS_OUT_MAX);
    rd_strbuf_init(&errtail, 4096);
    rd_status st = s3_split_command(cmd, &argv, err);
    if (st == RD_OK && !(av = rd_strlist_argv(&argv)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK) {
        rd_proc_spec spec = {.argv = av};
        st = rd_proc_run(&spec, PROCESS_TIMEOUT, &out, &errtail, &code, err);
        if (st != RD_OK)
            rd_error_prefix(err, "%s: ", what);
    }
    if (st == RD_OK && code != 0) {
        /* its stderr's last line (never its stdout: that is where keys go) */
        const char *t = errtail.data ? errtail.data : "";
        size_t n = strlen(t);
        while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r'))
            n--;
        size_t b = n;
        while (b > 0 && t[b - 1] != '\n')
            b--;
        if (n - b > 300)
            n = b + 300;
        st = RD_ERR(err, RD_ERR_REFUSED, "%s: %s exited with status %d%s%.*s", what, av[0], code,
                    n > b ? ": " : "", (int)(n - b), t + b);
    }
    if (st == RD_OK)
        st = s3_process_parse(out.data, out.len, what, c, err);
    if (out.data)
        memset(out.data, 0, out.len); /* the keys do not linger in freed memory */
    rd_strbuf_free(&out);
    rd_strbuf_free(&errtail);
    free(av);
    rd_strlist_free(&argv);
    return st;
}

/* --- STS --- */

static char *form_pair(const char *name, const char *value)
{
    char *v = rd_s3_uri_encode(value, 0);
    char *p = v ? rd_asprintf("&%s=%s", name, v) : NULL;
    free(v);
    return p;
}

static rd_status append_pair(rd_strbuf *b, const char *name, const char *value, rd_error *err)
{
    if (!value)
        return RD_OK;
    char *p = form_pair(name, value);
    rd_status st = p ? rd_strbuf_append(b, p, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(p);
    return st;
}

/* The STS endpoint: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's
 * endpoint_url, else https://sts.REGION.amazonaws.com. */
static char *sts_endpoint(const prof_files *f, const char *profile, const char *region)
{
    if (s3_env("AWS_ENDPOINT_URL_STS"))
        return rd_strdup(s3_env("AWS_ENDPOINT_URL_STS"));
    if (s3_env("AWS_ENDPOINT_URL"))
        return rd_strdup(s3_env("AWS_ENDPOINT_URL"));
    char *e = f && profile ? prof_get(f, profile, "endpoint_url") : NULL;
    return e ? e : rd_asprintf("https://sts.%s.amazonaws.com", region);
}

/* One STS call (AssumeRole signed with src, AssumeRoleWithWebIdentity
 * unsigned when src is NULL); the temporary credentials into *c. */
static rd_status sts_call(const prof_files *f, const char *profile, const char *who,
                          const char *action, const char *params, const s3_creds *src, s3_creds *c,
                          rd_error *err)
{
    char *region = s3_region_from_env();
    char *ep = NULL, *body = NULL;
    rd_strbuf resp;
    long status = 0;
    rd_status st = RD_OK;
    rd_strbuf_init(&resp, 64 * 1024);
    if (!region && !(region = rd_strdup("us-east-1")))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    ep = sts_endpoint(f, profile, region);
    body = rd_asprintf("Action=%s&Version=2011-06-15%s", action, params);
    if (!ep || !body) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = s3_sts_post(ep, region, body, src, &status, &resp, err)) != RD_OK) {
        rd_error_prefix(err, "sts %s for %s: ", action, who);
        goto out;
    }
    if (status != 200) {
        char code[128], msg[512];
        s3_sts_error(resp.data, resp.len, code, sizeof code, msg, sizeof msg);
        st = RD_ERR(err, status >= 400 && status < 500 ? RD_ERR_REFUSED : RD_ERR_NET,
                    "sts %s for %s: %ld %s%s%s", action, who, status,
                    code[0] ? code : "(no error code)", msg[0] ? ": " : "", msg);
        goto out;
    }
    if ((st = s3_sts_parse(resp.data, resp.len, action, c, err)) != RD_OK)
        rd_error_prefix(err, "%s: ", who);
out:
    if (resp.data)
        memset(resp.data, 0, resp.len);
    rd_strbuf_free(&resp);
    free(region);
    free(ep);
    free(body);
    return st;
}

static rd_status web_identity(const prof_files *f, const char *profile, const char *who,
                              const char *role, const char *token_file, const char *session,
                              s3_creds *c, rd_error *err)
{
    char *tok = s3_read_small(token_file);
    rd_strbuf p;
    rd_status st = RD_OK;
    rd_strbuf_init(&p, 0);
    if (!tok)
        return RD_ERR(err, RD_ERR_CONFIG, "%s: cannot read the web identity token file %s", who,
                      token_file);
    size_t n = strlen(tok);
    while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
        tok[--n] = '\0';
    if ((st = append_pair(&p, "RoleArn", role, err)) == RD_OK &&
        (st = append_pair(&p, "RoleSessionName", session ? session : "restoredrill", err)) ==
            RD_OK &&
        (st = append_pair(&p, "WebIdentityToken", tok, err)) == RD_OK)
        st = sts_call(f, profile, who, "AssumeRoleWithWebIdentity", p.data, NULL, c, err);
    memset(tok, 0, n);
    free(tok);
    if (p.data)
        memset(p.data, 0, p.len);
    rd_strbuf_free(&p);
    return st;
}

static rd_status resolve(const prof_files *f, const char *p, int depth, s3_creds *c, int *found,
                         rd_error *err);

static rd_status assume_role(const prof_files *f, const char *p, const char *role, int depth,
                             s3_creds *c, rd_error *err)
{
    char *srcname = prof_get(f, p, "source_profile");
    char *ext = prof_get(f, p, "external_id");
    char *session = prof_get(f, p, "role_session_name");
    char *dur = prof_get(f, p, "duration_seconds");
    s3_creds src;
    int found = 0;
    rd_strbuf q;
    rd_status st = RD_OK;
    memset(&src, 0, sizeof src);
    rd_strbuf_init(&q, 0);
    if (!srcname) {
        char *cs = prof_get(f, p, "credential_source");
        st = RD_ERR(err, RD_ERR_CONFIG,
                    cs ? "profile %s: role_arn with credential_source is not supported: use "
                         "source_profile"
                       : "profile %s has role_arn but no source_profile or "
                         "web_identity_token_file",
                    p);
        free(cs);
        goto out;
    }
    if (dur) {
        char *end = NULL;
        long v = strtol(dur, &end, 10);
        if (!end || *end || v < 900 || v > 43200) {
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "profile %s: duration_seconds: expected 900 to 43200, got \"%s\"", p, dur);
            goto out;
        }
    }
    /* a profile naming itself uses its own keys */
    if (strcmp(srcname, p) == 0) {
        char *id = prof_get(f, p, "aws_access_key_id"),
             *sec = prof_get(f, p, "aws_secret_access_key");
        if (id && sec) {
            src.key_id = id;
            src.secret = sec;
            src.token = prof_get(f, p, "aws_session_token");
            found = 1;
        } else {
            free(id);
            free(sec);
        }
    } else if ((st = resolve(f, srcname, depth + 1, &src, &found, err)) != RD_OK) {
        goto out;
    }
    if (!found) {
        st = RD_ERR(err, RD_ERR_CONFIG, "profile %s: its source_profile %s has no credentials", p,
                    srcname);
        goto out;
    }
    char defsession[64];
    snprintf(defsession, sizeof defsession, "restoredrill-%lld",
             (long long)(rd_wall_now_ms() / 1000));
    if ((st = append_pair(&q, "RoleArn", role, err)) != RD_OK ||
        (st = append_pair(&q, "RoleSessionName", session ? session : defsession, err)) != RD_OK ||
        (st = append_pair(&q, "DurationSeconds", dur, err)) != RD_OK ||
        (st = append_pair(&q, "ExternalId", ext, err)) != RD_OK)
        goto out;
    char who[160];
    snprintf(who, sizeof who, "profile %s", p);
    st = sts_call(f, p, who, "AssumeRole", q.data, &src, c, err);
out:
    s3_creds_clear(&src);
    rd_strbuf_free(&q);
    free(srcname);
    free(ext);
    free(session);
    free(dur);
    return st;
}

static rd_status resolve(const prof_files *f, const char *p, int depth, s3_creds *c, int *found,
                         rd_error *err)
{
    rd_status st = RD_OK;
    char *role = NULL, *wif = NULL, *id = NULL, *sec = NULL, *proc = NULL, *sso = NULL;
    *found = 0;
    if (depth > MAX_DEPTH)
        return RD_ERR(err, RD_ERR_CONFIG, "profile %s: more than %d source_profile links (a loop?)",
                      p, MAX_DEPTH);
    role = prof_get(f, p, "role_arn");
    if (role) {
        wif = prof_get(f, p, "web_identity_token_file");
        if (wif) {
            char *session = prof_get(f, p, "role_session_name");
            char who[160];
            snprintf(who, sizeof who, "profile %s", p);
            st = web_identity(f, p, who, role, wif, session, c, err);
            free(session);
        } else {
            st = assume_role(f, p, role, depth, c, err);
        }
        if (st == RD_OK) {
            *found = 1;
            snprintf(c->name, sizeof c->name, "profile %s (%s)", p,
                     wif ? "web identity" : "role_arn");
        }
        goto out;
    }
    if ((sso = prof_get(f, p, "sso_start_url")) || (sso = prof_get(f, p, "sso_session")) ||
        (sso = prof_get(f, p, "sso_account_id"))) {
        st = RD_ERR(err, RD_ERR_UNSUPPORTED,
                    "profile %s uses AWS IAM Identity Center (sso_*), which restoredrill cannot "
                    "log in to: give it a credential_process, or export AWS_ACCESS_KEY_ID, "
                    "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN",
                    p);
        goto out;
    }
    id = prof_get(f, p, "aws_access_key_id");
    sec = prof_get(f, p, "aws_secret_access_key");
    if (id && sec) {
        c->key_id = id;
        c->secret = sec;
        c->token = prof_get(f, p, "aws_session_token");
        id = sec = NULL;
        *found = 1;
        snprintf(c->name, sizeof c->name, "profile %s", p);
        goto out;
    }
    if (id || sec) {
        st = RD_ERR(err, RD_ERR_CONFIG, "profile %s in %s has %s but not %s", p,
                    prof_where(f, p, id ? "aws_access_key_id" : "aws_secret_access_key"),
                    id ? "aws_access_key_id" : "aws_secret_access_key",
                    id ? "aws_secret_access_key" : "aws_access_key_id");
        goto out;
    }
    if ((proc = prof_get(f, p, "credential_process"))) {
        if ((st = run_process(p, proc, c, err)) == RD_OK) {
            *found = 1;
            snprintf(c->name, sizeof c->name, "profile %s (credential_process)", p);
        }
    }
out:
    if (st != RD_OK)
        s3_creds_clear(c);
    free(role);
    free(wif);
    free(id);
    free(sec);
    free(proc);
    free(sso);
    return st;
}

rd_status s3_creds_profile(s3_creds *c, int *found, rd_error *err)
{
    const char *profile = s3_env("AWS_PROFILE") ? s3_env("AWS_PROFILE") : "default";
    prof_files f = {s3_shared_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
                    s3_shared_file("AWS_CONFIG_FILE", "config"), NULL, NULL};
    f.ctext = s3_read_small(f.cpath);
    f.ftext = s3_read_small(f.fpath);
    rd_status st = resolve(&f, profile, 0, c, found, err);
    if (st == RD_OK && *found) {
        c->source = c->name;
    } else if (st == RD_OK && s3_env("AWS_PROFILE")) {
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "AWS_PROFILE is %s but neither %s nor %s gives credentials for it (keys, "
                    "role_arn or credential_process)",
                    profile, f.cpath ? f.cpath : "~/.aws/credentials",
                    f.fpath ? f.fpath : "~/.aws/config");
    }
    files_free(&f);
    return st;
}

rd_status s3_creds_web_identity_env(s3_creds *c, int *found, rd_error *err)
{
    const char *role = s3_env("AWS_ROLE_ARN"), *file = s3_env("AWS_WEB_IDENTITY_TOKEN_FILE");
    *found = 0;
    if (!role && !file)
        return RD_OK;
    if (!role || !file)
        return RD_ERR(err, RD_ERR_CONFIG, "%s is set but %s is not",
                      role ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE",
                      role ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN");
    rd_status st = web_identity(NULL, NULL, "AWS_ROLE_ARN", role, file,
                                s3_env("AWS_ROLE_SESSION_NAME"), c, err);
    if (st == RD_OK) {
        *found = 1;
        c->source = "web identity (AWS_ROLE_ARN)";
    }
    return st;
}
