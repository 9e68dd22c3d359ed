/* s3_int.h: what the files of harness/s3 share: the client, one request,
 * credentials and the XML readers. Included only inside harness/s3. */
#ifndef RESTOREDRILL_S3_INT_H
#define RESTOREDRILL_S3_INT_H

#include <stdint.h>

#include "restoredrill/config.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"

/* Credentials refreshed this long before they expire (seconds). */
#define S3_CREDS_MARGIN 300

typedef struct s3_creds {
    char *key_id, *secret, *token; /* token NULL: long-term keys */
    int64_t expires_ms;            /* 0: does not expire */
    const char *source;            /* "environment", "profile NAME", ... (static or in name) */
    char name[96];
} s3_creds;

void s3_creds_clear(s3_creds *c);
/* s3_files.c: the value of the environment variable name, NULL when unset
 * or empty; s in place without leading and trailing white space. */
const char *s3_env(const char *name);
char *s3_trim(char *s);
/* A libcurl write callback (ud: an s3_capped_body) appending to out up to
 * max bytes; past them it sets overflow and aborts the transfer. For the
 * small answers of the credential endpoints and STS. */
typedef struct s3_capped_body {
    rd_strbuf *out;
    size_t max;
    int overflow;
} s3_capped_body;
size_t s3_capped_write(char *buf, size_t size, size_t nitems, void *ud);
/* The standard chain: environment, AWS_PROFILE / shared files, container
 * endpoint, IMDSv2. RD_ERR_CONFIG when none gives credentials. */
rd_status s3_creds_load(s3_creds *out, rd_error *err);
/* Region from AWS_REGION, AWS_DEFAULT_REGION, the profile's config; heap or NULL. */
char *s3_region_from_env(void);

struct rd_s3 {
    char *scheme;    /* "https" */
    char *host;      /* "s3.eu-west-1.amazonaws.com" or "127.0.0.1:9000" */
    char *base_path; /* path of the endpoint ("" usually), without trailing '/' */
    char *region;
    int path_style;
    int max_attempts;
    double timeout;
    void *curl; /* CURL *, reused for keep-alive */
    s3_creds creds;
    int have_creds;
    /* unit test of the published example */
    char *test_date;
    int test_creds;
    char *test_connect;
};

typedef struct s3_req {
    const char *method; /* GET HEAD PUT POST DELETE */
    const char *bucket;
    const char *key;            /* NULL: a bucket request */
    const char *query;          /* canonical query, NULL: none */
    const char *const *headers; /* NULL-terminated extra headers, signed; NULL: none */
    const void *body;           /* PUT/POST body or NULL */
    size_t body_len;
    rd_s3_sink_fn sink; /* a 2xx body goes here; NULL: into resp */
    void *sink_ctx;
    volatile int *cancel;
    size_t resp_max; /* cap of resp; 0: 16 MiB */
    /* results of the last attempt */
    long status;
    rd_strbuf resp; /* body of an error, or of a 2xx without a sink */
    char etag[130];
    char version_id[256];
    char checksum_sha256[96]; /* x-amz-checksum-sha256 */
    char content_range[128];
    int64_t content_length; /* -1 unknown */
    int64_t mtime_ms;       /* Last-Modified, -1 unknown */
    uint64_t sunk;          /* bytes given to the sink by this attempt */
    rd_status sink_st;      /* the sink's failure, if any */
    rd_error sink_err;
} s3_req;

void s3_req_init(s3_req *r, const char *method, const char *bucket, const char *key);
void s3_req_free(s3_req *r);

/* One attempt. RD_OK when a response arrived (any status, in r->status);
 * *transient is 1 when a failure may go away on retry (connection, timeout,
 * 5xx, 429, SlowDown). */
rd_status s3_once(rd_s3 *s, s3_req *r, int *transient, rd_error *err);
/* Attempts with backoff until a 2xx; a non-2xx becomes the S3 error message. */
rd_status s3_request(rd_s3 *s, s3_req *r, rd_error *err);
/* The message of a failed response: "s3 GET s3://b/k: 404 NoSuchKey: ..." */
rd_status s3_fail(const s3_req *r, rd_error *err);
/* Sleep before attempt number `attempt` (1, 2, ...): full jitter over 0.2 s * 2^attempt, at most
 * 10 s; RD_ERR_ABORTED when cancelled or a signal asked to abort meanwhile. */
rd_status s3_backoff(int attempt, volatile int *cancel, rd_error *err);
int s3_is_transient_status(long status, const char *code);

/* XML (s3_xml.c, libxml2). */
/* A single element's text anywhere in the document (UploadId, ETag). Heap or NULL. */
char *s3_xml_text(const char *xml, size_t len, const char *name);

/* Shared-file helpers (s3_creds.c): the path in var, else ~/.aws/NAME
 * (heap or NULL); the value of key in [section] of an INI text (heap or
 * NULL); a small file's text (heap, NULL when unreadable). */
char *s3_shared_file(const char *var, const char *name);
char *s3_ini_get(const char *text, const char *section, const char *key);
char *s3_read_small(const char *path);

/* Profiles (s3_profile.c): the AWS_PROFILE (or default) profile's
 * credentials: role_arn (web_identity_token_file or source_profile),
 * sso_* refused, keys, credential_process; and AWS_ROLE_ARN +
 * AWS_WEB_IDENTITY_TOKEN_FILE. *found 0 with RD_OK: none there. */
rd_status s3_creds_profile(s3_creds *c, int *found, rd_error *err);
rd_status s3_creds_web_identity_env(s3_creds *c, int *found, rd_error *err);
/* A credential_process command line into words (quotes and backslashes as
 * a POSIX shell reads them, no expansion): RD_ERR_CONFIG for an
 * unterminated quote or an empty command. */
rd_status s3_split_command(const char *cmd, rd_strlist *out, rd_error *err);
/* The JSON a credential_process prints (Version 1). Messages name `what`,
 * never the output. */
rd_status s3_process_parse(const char *text, size_t len, const char *what, s3_creds *c,
                           rd_error *err);

/* STS (s3_sts.c): a form POST to endpoint (SigV4 for service sts in region
 * with src; unsigned when src is NULL), the body into out; the
 * <Credentials> of an AssumeRole* answer; the Code / Message of an STS
 * <ErrorResponse>. */
rd_status s3_sts_post(const char *endpoint, const char *region, const char *body,
                      const s3_creds *src, long *status, rd_strbuf *out, rd_error *err);
rd_status s3_sts_parse(const char *xml, size_t len, const char *action, s3_creds *c, rd_error *err);
void s3_sts_error(const char *xml, size_t len, char *code, size_t codesz, char *msg, size_t msgsz);

/* HTTP GET/PUT of a credentials endpoint (s3_creds.c), body into out (capped 64 KiB). */
rd_status s3_http_simple(const char *method, const char *url, const char *const *headers,
                         double timeout, long *status, rd_strbuf *out, rd_error *err);

#endif
