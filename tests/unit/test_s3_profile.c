/* test_s3_profile.c: profiles beyond keys, without a server: the
 * credential_process command line split into words, its JSON read (every
 * refusal with its exact message, never quoting the output), a
 * credential_process run from a profile (a script: keys, non-zero exit, no
 * JSON), the STS answer and error documents, and the order inside a
 * profile: role_arn before keys, sso_* refused before keys, keys before
 * credential_process. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../harness/s3/s3_int.h"
#include "restoredrill/s3.h"

static char home[256];

static void reset_env(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_PROFILE",
                                       "AWS_ROLE_ARN",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE",
                                       "AWS_CONFIG_FILE",
                                       "AWS_SHARED_CREDENTIALS_FILE",
                                       "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_STS",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                       "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       NULL};
    for (size_t i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    snprintf(home, sizeof home, "/tmp/rd-s3p-home.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(home));
    char p[512];
    snprintf(p, sizeof p, "%s/.aws", home);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    setenv("HOME", home, 1);
}

static void write_file(const char *rel, const char *text, int mode)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", home, rel);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(p, (mode_t)mode), 0);
}

static void rm_home(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    ck_assert_int_eq(system(cmd), 0);
}

/* The profile's credentials (s3_creds_profile): status, found, err. */
static rd_status profile(const char *name, s3_creds *c, int *found, rd_error *err)
{
    memset(c, 0, sizeof *c);
    setenv("AWS_PROFILE", name, 1);
    return s3_creds_profile(c, found, err);
}

START_TEST(split_command_words)
{
    rd_strlist l = {0};
    rd_error err;
    ck_assert_int_eq(
        s3_split_command("  /usr/bin/vault  read 'a b' \"c \\\"d\\\"\" e\\ f '' ", &l, &err),
        RD_OK);
    ck_assert_uint_eq(l.n, 6);
    ck_assert_str_eq(l.items[0], "/usr/bin/vault");
    ck_assert_str_eq(l.items[1], "read");
    ck_assert_str_eq(l.items[2], "a b");
    ck_assert_str_eq(l.items[3], "c \"d\"");
    ck_assert_str_eq(l.items[4], "e f");
    ck_assert_str_eq(l.items[5], "");
    rd_strlist_free(&l);
    /* no expansion: $HOME and ; stay as they are */
    ck_assert_int_eq(s3_split_command("echo $HOME;ls", &l, &err), RD_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.items[1], "$HOME;ls");
    rd_strlist_free(&l);
    ck_assert_int_eq(s3_split_command("x 'open", &l, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "credential_process: unterminated ' quote");
    rd_strlist_free(&l);
    ck_assert_int_eq(s3_split_command("   ", &l, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "credential_process: empty command");
    rd_strlist_free(&l);
}
END_TEST

START_TEST(process_json)
{
    s3_creds c;
    rd_error err;
    const char *ok = "{\"Version\": 1, \"AccessKeyId\": \"AKID\", \"SecretAccessKey\": \"S\", "
                     "\"SessionToken\": \"T\", \"Expiration\": \"2026-12-05T18:00:00Z\"}";
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(s3_process_parse(ok, strlen(ok), "p", &c, &err), RD_OK);
    ck_assert_str_eq(c.key_id, "AKID");
    ck_assert_str_eq(c.secret, "S");
    ck_assert_str_eq(c.token, "T");
    ck_assert_int_eq(c.expires_ms, INT64_C(1796493600000));
    s3_creds_clear(&c);
    const char *longterm =
        "{\"Version\": 1, \"AccessKeyId\": \"AKID\", \"SecretAccessKey\": \"S\"}";
    ck_assert_int_eq(s3_process_parse(longterm, strlen(longterm), "p", &c, &err), RD_OK);
    ck_assert_ptr_null(c.token);
    ck_assert_int_eq(c.expires_ms, 0);
    s3_creds_clear(&c);
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"SECRET-LOOKING-TEXT", "p: its output is not a JSON object"},
        {"[1]", "p: its output is not a JSON object"},
        {"{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}",
         "p: expected \"Version\": 1 in its output"},
        {"{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}",
         "p: expected \"Version\": 1 in its output"},
        {"{\"Version\": 1, \"AccessKeyId\": \"A\"}",
         "p: expected AccessKeyId and SecretAccessKey strings in its output"},
        {"{\"Version\": 1, \"AccessKeyId\": \"\", \"SecretAccessKey\": \"S\"}",
         "p: expected AccessKeyId and SecretAccessKey strings in its output"},
        {"{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", \"SessionToken\": "
         "5}",
         "p: SessionToken: expected a string"},
        {"{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", \"Expiration\": "
         "\"tomorrow\"}",
         "p: Expiration: expected an RFC 3339 time"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&c, 0, sizeof c);
        ck_assert_int_eq(s3_process_parse(bad[i].text, strlen(bad[i].text), "p", &c, &err),
                         RD_ERR_FORMAT);
        ck_assert_str_eq(err.msg, bad[i].msg);
        ck_assert_ptr_null(c.key_id);
    }
}
END_TEST

START_TEST(process_from_profile)
{
    s3_creds c;
    int found = 0;
    rd_error err;
    char cfg[2048];
    reset_env();
    write_file("proc.sh",
               "#!/bin/sh\ncase $1 in\n"
               "ok) echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDP\", \"SecretAccessKey\": "
               "\"SP\", \"SessionToken\": \"TP\", \"Expiration\": \"2099-01-01T00:00:00Z\"}' ;;\n"
               "fail) echo 'first line' >&2; echo 'vault sealed' >&2; exit 4 ;;\n"
               "junk) echo 'AKIA-NOT-JSON' ;;\nesac\n",
               0755);
    snprintf(cfg, sizeof cfg,
             "[profile ok]\ncredential_process = %s/proc.sh ok\n"
             "[profile fail]\ncredential_process = %s/proc.sh fail\n"
             "[profile junk]\ncredential_process = %s/proc.sh junk\n"
             "[profile missing]\ncredential_process = %s/no-such-helper\n",
             home, home, home, home);
    write_file(".aws/config", cfg, 0600);
    ck_assert_int_eq(profile("ok", &c, &found, &err), RD_OK);
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(c.source, "profile ok (credential_process)");
    ck_assert_str_eq(c.key_id, "AKIDP");
    ck_assert_str_eq(c.token, "TP");
    ck_assert_int_eq(c.expires_ms, INT64_C(4070908800000));
    s3_creds_clear(&c);
    char want[1024];
    ck_assert_int_eq(profile("fail", &c, &found, &err), RD_ERR_REFUSED);
    snprintf(want, sizeof want,
             "credential_process of profile fail: %s/proc.sh exited with status 4: vault sealed",
             home);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(profile("junk", &c, &found, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg,
                     "credential_process of profile junk: its output is not a JSON object");
    ck_assert_int_eq(profile("missing", &c, &found, &err), RD_ERR_PROC);
    snprintf(want, sizeof want,
             "credential_process of profile missing: cannot run %s/no-such-helper: No such file "
             "or directory",
             home);
    ck_assert_str_eq(err.msg, want);
    rm_home();
}
END_TEST

START_TEST(profile_order)
{
    s3_creds c;
    int found = 0;
    rd_error err;
    reset_env();
    write_file(".aws/config",
               "[profile both]\nrole_arn = arn:aws:iam::1:role/r\naws_access_key_id = K\n"
               "aws_secret_access_key = S\n"
               "[profile ssokeys]\nsso_session = corp\naws_access_key_id = K\n"
               "aws_secret_access_key = S\n"
               "[profile keysproc]\naws_access_key_id = K2\naws_secret_access_key = S2\n"
               "credential_process = /bin/false\n"
               "[profile ec2]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\n"
               "[profile dur]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = keysproc\n"
               "duration_seconds = 60\n"
               "[profile nosrc]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = empty\n"
               "[profile empty]\nregion = eu-west-1\n",
               0600);
    /* role_arn comes before the profile's own keys */
    ck_assert_int_eq(profile("both", &c, &found, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "profile both has role_arn but no source_profile or "
                              "web_identity_token_file");
    /* sso_* is refused even with keys beside it */
    ck_assert_int_eq(profile("ssokeys", &c, &found, &err), RD_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg,
                     "profile ssokeys uses AWS IAM Identity Center (sso_*), which restoredrill "
                     "cannot log in to: give it a credential_process, or export AWS_ACCESS_KEY_ID, "
                     "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN");
    /* keys before credential_process (/bin/false never runs) */
    ck_assert_int_eq(profile("keysproc", &c, &found, &err), RD_OK);
    ck_assert_str_eq(c.source, "profile keysproc");
    ck_assert_str_eq(c.key_id, "K2");
    s3_creds_clear(&c);
    ck_assert_int_eq(profile("ec2", &c, &found, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "profile ec2: role_arn with credential_source is not supported: use "
                              "source_profile");
    ck_assert_int_eq(profile("dur", &c, &found, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "profile dur: duration_seconds: expected 900 to 43200, got \"60\"");
    ck_assert_int_eq(profile("nosrc", &c, &found, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "profile nosrc: its source_profile empty has no credentials");
    /* a profile with nothing: not found, and an error only when named by AWS_PROFILE */
    memset(&c, 0, sizeof c);
    unsetenv("AWS_PROFILE");
    ck_assert_int_eq(s3_creds_profile(&c, &found, &err), RD_OK);
    ck_assert_int_eq(found, 0);
    ck_assert_int_eq(profile("empty", &c, &found, &err), RD_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "AWS_PROFILE is empty but neither ") &&
                      strstr(err.msg, "gives credentials for it (keys, role_arn or "
                                      "credential_process)"),
                  "%s", err.msg);
    /* the environment's web identity needs both variables */
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r", 1);
    ck_assert_int_eq(s3_creds_web_identity_env(&c, &found, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    ck_assert_int_eq(s3_creds_web_identity_env(&c, &found, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "AWS_ROLE_ARN: cannot read the web identity token file "
                              "/nonexistent/token");
    unsetenv("AWS_ROLE_ARN");
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    rm_home();
}
END_TEST

START_TEST(sts_documents)
{
    s3_creds c;
    rd_error err;
    char code[64], msg[256];
    const char *ok =
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
        "<Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>sec</SecretAccessKey>"
        "<SessionToken>tok</SessionToken><Expiration>2026-12-05T19:00:00Z</Expiration>"
        "</Credentials><AssumedRoleUser><Arn>arn</Arn></AssumedRoleUser></AssumeRoleResult>"
        "</AssumeRoleResponse>";
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(s3_sts_parse(ok, strlen(ok), "AssumeRole", &c, &err), RD_OK);
    ck_assert_str_eq(c.key_id, "ASIAX");
    ck_assert_str_eq(c.secret, "sec");
    ck_assert_str_eq(c.token, "tok");
    ck_assert_int_eq(c.expires_ms, INT64_C(1796497200000));
    s3_creds_clear(&c);
    const char *nocreds = "<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>";
    ck_assert_int_eq(s3_sts_parse(nocreds, strlen(nocreds), "AssumeRole", &c, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "sts AssumeRole: expected Credentials with AccessKeyId, "
                              "SecretAccessKey and SessionToken in the answer");
    ck_assert_int_eq(s3_sts_parse("not xml", 7, "AssumeRole", &c, &err), RD_ERR_FORMAT);
    const char *e = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                    "<Message>User is not authorized to perform: sts:AssumeRole</Message>"
                    "</Error><RequestId>1</RequestId></ErrorResponse>";
    s3_sts_error(e, strlen(e), code, sizeof code, msg, sizeof msg);
    ck_assert_str_eq(code, "AccessDenied");
    ck_assert_str_eq(msg, "User is not authorized to perform: sts:AssumeRole");
    s3_sts_error("<html/>", 7, code, sizeof code, msg, sizeof msg);
    ck_assert_str_eq(code, "");
}
END_TEST

Suite *s3_profile_suite(void);
Suite *s3_profile_suite(void)
{
    Suite *s = suite_create("s3_profile");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, split_command_words);
    tcase_add_test(tc, process_json);
    tcase_add_test(tc, process_from_profile);
    tcase_add_test(tc, profile_order);
    tcase_add_test(tc, sts_documents);
    suite_add_tcase(s, tc);
    return s;
}
