/* test_evidence.c: Ed25519 keys and signatures (core/sign.c), detached
 * signature files and signed history lines (reports/evidence_sign.c), and
 * the configuration redaction of the evidence pack. Keys are generated
 * here with libcrypto and written as PEM, as `openssl genpkey` would. */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../reports/report_int.h"
#include "report_fixture.h"
#include "restoredrill/catalog.h"
#include "restoredrill/clock.h"
#include "restoredrill/config.h"
#include "restoredrill/evidence.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"
#include "restoredrill/sha256.h"
#include "restoredrill/sign.h"
#include "restoredrill/strbuf.h"

Suite *evidence_suite(void);

static char dir[64];
static char priv1[128], pub1[128], priv2[128], pub2[128], ecpriv[128];

static void write_key(EVP_PKEY *k, const char *priv, const char *pub)
{
    FILE *f = fopen(priv, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    if (pub) {
        f = fopen(pub, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(PEM_write_PUBKEY(f, k), 1);
        fclose(f);
    }
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/rd-evidence-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(priv1, sizeof priv1, "%s/k1.pem", dir);
    snprintf(pub1, sizeof pub1, "%s/k1.pub", dir);
    snprintf(priv2, sizeof priv2, "%s/k2.pem", dir);
    snprintf(pub2, sizeof pub2, "%s/k2.pub", dir);
    snprintf(ecpriv, sizeof ecpriv, "%s/ec.pem", dir);
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ck_assert_ptr_nonnull(k1);
    ck_assert_ptr_nonnull(k2);
    ck_assert_ptr_nonnull(ec);
    write_key(k1, priv1, pub1);
    write_key(k2, priv2, pub2);
    write_key(ec, ecpriv, NULL);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(ec);
}

static void teardown(void)
{
    rd_error err;
    rd_fs_rmtree(dir, "/tmp", &err);
}

static rd_sign_key *load(const char *path, int priv)
{
    rd_sign_key *k = NULL;
    rd_error err;
    rd_status st =
        priv ? rd_sign_load_private(path, &k, &err) : rd_sign_load_public(path, &k, &err);
    ck_assert_msg(st == RD_OK, "%s", err.msg);
    return k;
}

static char *file_in(const char *name)
{
    return rd_asprintf("%s/%s", dir, name);
}

static void put(const char *path, const char *text)
{
    rd_error err;
    ck_assert_int_eq(rd_fs_write_atomic(path, text, strlen(text), 0644, &err), RD_OK);
}

START_TEST(sign_and_verify_bytes)
{
    rd_sign_key *k = load(priv1, 1), *p = load(pub1, 0), *other = load(pub2, 0);
    char b64[RD_SIGN_B64_LEN + 1];
    rd_error err;
    const char msg[] = "the exact bytes of drill.json";
    ck_assert_int_eq(rd_sign_data(k, msg, strlen(msg), b64, sizeof b64, &err), RD_OK);
    ck_assert_uint_eq(strlen(b64), RD_SIGN_B64_LEN);
    ck_assert_int_eq(rd_sign_verify(p, msg, strlen(msg), b64, &err), RD_OK);
    /* the private key verifies too (its public half), and has the same fingerprint */
    ck_assert_int_eq(rd_sign_verify(k, msg, strlen(msg), b64, &err), RD_OK);
    ck_assert_str_eq(rd_sign_fingerprint(k), rd_sign_fingerprint(p));
    ck_assert_int_eq(strncmp(rd_sign_fingerprint(p), "sha256:", 7), 0);
    ck_assert_uint_eq(strlen(rd_sign_fingerprint(p)), RD_SIGN_FINGERPRINT_LEN);
    ck_assert_str_ne(rd_sign_fingerprint(p), rd_sign_fingerprint(other));
    /* one byte changed, another key, a damaged signature */
    char edited[sizeof msg];
    memcpy(edited, msg, sizeof msg);
    edited[3] ^= 1;
    ck_assert_int_eq(rd_sign_verify(p, edited, strlen(edited), b64, &err), RD_ERR_INTEGRITY);
    ck_assert_str_eq(err.msg, "signature does not match");
    ck_assert_int_eq(rd_sign_verify(other, msg, strlen(msg), b64, &err), RD_ERR_INTEGRITY);
    b64[10] = b64[10] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(rd_sign_verify(p, msg, strlen(msg), b64, &err), RD_ERR_INTEGRITY);
    ck_assert_int_eq(rd_sign_verify(p, msg, strlen(msg), "AAAA", &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "signature is not base64 of 64 bytes");
    /* a public key cannot sign */
    ck_assert_int_eq(rd_sign_data(p, msg, strlen(msg), b64, sizeof b64, &err), RD_ERR_USAGE);
    ck_assert_str_eq(err.msg, "cannot sign with a public key");
    rd_sign_key_free(k);
    rd_sign_key_free(p);
    rd_sign_key_free(other);
}
END_TEST

START_TEST(bad_keys_are_refused)
{
    rd_sign_key *k = NULL;
    rd_error err;
    char *missing = file_in("nope.pem"), *junk = file_in("junk.pem"), *want = NULL;
    put(junk, "not a key\n");
    ck_assert_int_eq(rd_sign_load_private(missing, &k, &err), RD_ERR_NOTFOUND);
    ck_assert_int_eq(rd_sign_load_private(junk, &k, &err), RD_ERR_FORMAT);
    want = rd_asprintf("%s: not a PEM private key", junk);
    ck_assert_str_eq(err.msg, want);
    free(want);
    ck_assert_int_eq(rd_sign_load_private(pub1, &k, &err), RD_ERR_FORMAT); /* public only */
    ck_assert_int_eq(rd_sign_load_public(junk, &k, &err), RD_ERR_FORMAT);
    want = rd_asprintf("%s: not a PEM public or private key", junk);
    ck_assert_str_eq(err.msg, want);
    free(want);
    ck_assert_int_eq(rd_sign_load_private(ecpriv, &k, &err), RD_ERR_FORMAT);
    want = rd_asprintf("%s: not an ed25519 key (id-ecPublicKey)", ecpriv);
    ck_assert_str_eq(err.msg, want);
    free(want);
    ck_assert_ptr_null(k);
    free(missing);
    free(junk);
}
END_TEST

START_TEST(detached_file_signature)
{
    rd_sign_key *k = load(priv1, 1), *p = load(pub1, 0), *other = load(pub2, 0);
    rd_error err;
    char *f = file_in("drill.json"), *sig = file_in("drill.json.sig"), *want;
    put(f, "{\"a\": 1}\n");
    ck_assert_int_eq(rd_evidence_verify_file(f, NULL, p, &err), RD_ERR_NOTFOUND);
    want = rd_asprintf("%s is not signed: %s does not exist", f, sig);
    ck_assert_str_eq(err.msg, want);
    free(want);
    ck_assert_int_eq(rd_evidence_sign_file(f, k, &err), RD_OK);
    ck_assert_int_eq(rd_evidence_verify_file(f, NULL, p, &err), RD_OK);
    ck_assert_int_eq(rd_evidence_verify_file(f, sig, p, &err), RD_OK);
    /* another key */
    ck_assert_int_eq(rd_evidence_verify_file(f, NULL, other, &err), RD_ERR_INTEGRITY);
    want = rd_asprintf("%s was signed by key %s, not by %s", f, rd_sign_fingerprint(p),
                       rd_sign_fingerprint(other));
    ck_assert_str_eq(err.msg, want);
    free(want);
    /* a one-byte edit */
    put(f, "{\"a\": 2}\n");
    ck_assert_int_eq(rd_evidence_verify_file(f, NULL, p, &err), RD_ERR_INTEGRITY);
    ck_assert_msg(strstr(err.msg, "changed after it was signed (sha256 ") != NULL, "%s", err.msg);
    /* the sha256 in the .sig edited to match: the signature still fails */
    {
        char *text = NULL, *hex_edit;
        size_t len = 0;
        char hex_new[65];
        ck_assert_int_eq(rd_fs_read_file(sig, 0, &text, &len, &err), RD_OK);
        ck_assert_int_eq(rd_sha256_file(f, hex_new, NULL, &err), RD_OK);
        hex_edit = strstr(text, "\"sha256\":\t\"");
        ck_assert_ptr_nonnull(hex_edit);
        memcpy(hex_edit + 11, hex_new, 64);
        put(sig, text);
        free(text);
        ck_assert_int_eq(rd_evidence_verify_file(f, NULL, p, &err), RD_ERR_INTEGRITY);
        want = rd_asprintf("%s: signature does not match", f);
        ck_assert_str_eq(err.msg, want);
        free(want);
    }
    put(sig, "{\"schema\": \"other\"}");
    ck_assert_int_eq(rd_evidence_verify_file(f, NULL, p, &err), RD_ERR_FORMAT);
    rd_sign_key_free(k);
    rd_sign_key_free(p);
    rd_sign_key_free(other);
    free(f);
    free(sig);
}
END_TEST

START_TEST(signed_history_lines)
{
    rd_sign_key *k = load(priv1, 1), *p = load(pub1, 0), *other = load(pub2, 0);
    rd_error err;
    size_t lines = 0, bad = 0;
    char *h = file_in("history.jsonl");
    rd_report *r = fx_report();
    /* an unsigned line, then two signed ones: the chain pins the first */
    ck_assert_int_eq(rd_history_append(r, h, &err), RD_OK);
    ck_assert_int_eq(rd_evidence_verify_history(h, p, &lines, &bad, &err), RD_ERR_INTEGRITY);
    ck_assert_str_eq(err.msg, "line 1: the last line is not signed");
    ck_assert_int_eq(rd_history_append_signed(r, h, k, &err), RD_OK);
    ck_assert_int_eq(rd_history_append_signed(r, h, k, &err), RD_OK);
    ck_assert_int_eq(rd_evidence_verify_history(h, p, &lines, &bad, &err), RD_OK);
    ck_assert_uint_eq(lines, 3);
    ck_assert_uint_eq(bad, 0);
    /* the plain chain check still accepts signed lines */
    ck_assert_int_eq(rd_history_verify(h, &lines, &bad, &err), RD_OK);
    ck_assert_int_eq(rd_evidence_verify_history(h, other, &lines, &bad, &err), RD_ERR_INTEGRITY);
    ck_assert_uint_eq(bad, 2);
    ck_assert_msg(strstr(err.msg, "line 2: signed by key sha256:") != NULL, "%s", err.msg);
    /* edit a value of the last line (no later line carries its hash): the signature catches it */
    {
        char *text = NULL;
        size_t len = 0;
        ck_assert_int_eq(rd_fs_read_file(h, 0, &text, &len, &err), RD_OK);
        char *last = text + len - 2;
        while (last > text && last[-1] != '\n')
            last--;
        char *st = strstr(last, "\"status\":\"");
        ck_assert_ptr_nonnull(st);
        st[10] = st[10] == 'p' ? 'f' : 'p';
        put(h, text);
        free(text);
    }
    ck_assert_int_eq(rd_history_verify(h, &lines, &bad, &err), RD_OK); /* undetectable before */
    ck_assert_int_eq(rd_evidence_verify_history(h, p, &lines, &bad, &err), RD_ERR_INTEGRITY);
    ck_assert_str_eq(err.msg, "line 3: signature does not match");
    ck_assert_uint_eq(bad, 3);
    rd_report_free(r);
    rd_sign_key_free(k);
    rd_sign_key_free(p);
    rd_sign_key_free(other);
    free(h);
}
END_TEST

START_TEST(signed_line_format)
{
    rd_sign_key *k = load(priv1, 1), *p = load(pub1, 0);
    rd_error err;
    char *out = NULL;
    const char *line = "{\"schema\":\"x\",\"n\":1}";
    ck_assert_int_eq(rd_evidence_sign_line(line, k, &out, &err), RD_OK);
    ck_assert_int_eq(
        strncmp(out, "{\"schema\":\"x\",\"n\":1,\"signature\":{\"key_fingerprint\":\"", 52), 0);
    ck_assert_int_eq(rd_evidence_verify_line(out, strlen(out), p, &err), RD_OK);
    ck_assert_int_eq(rd_evidence_verify_line(line, strlen(line), p, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "not signed");
    /* a member appended after the signature is refused */
    char *more = rd_asprintf("%.*s,\"x\":1}", (int)strlen(out) - 1, out);
    ck_assert_int_eq(rd_evidence_verify_line(more, strlen(more), p, &err), RD_ERR_FORMAT);
    free(more);
    free(out);
    rd_sign_key_free(k);
    rd_sign_key_free(p);
}
END_TEST

START_TEST(config_redaction)
{
    rd_error err;
    char *out = NULL;
    size_t n = 0;
    const char *cfg =
        "// comment\n"
        "{ \"version\": 1,\n"
        "  \"notify\": { \"webhook\": \"https://hooks.example/T0K3N\" },\n"
        "  \"targets\": [ { \"name\": \"a\",\n"
        "    \"reference\": { \"dsn\": \"postgres://u:PW123@db/x\", \"password_env\": \"REF_PW\" "
        "},\n"
        "    \"catalog\": { \"path\": \"${BACKUPS:-/srv/S3CRET-DEFAULT}/pg\", \"x\": \"${ONLY}\" "
        "},\n"
        "    \"scratch\": { \"admin_dsn\": \"host=h password=PW456 dbname=postgres\" },\n"
        "    \"checks\": [ { \"type\": \"smoke\", \"app\": { \"env\": { \"API_TOKEN\": \"TK789\" } "
        "} } ]\n"
        "} ] }\n";
    ck_assert_int_eq(rd_evidence_redact_config(cfg, &out, &n, &err), RD_OK);
    ck_assert_ptr_null(strstr(out, "T0K3N"));
    ck_assert_ptr_null(strstr(out, "PW123"));
    ck_assert_ptr_null(strstr(out, "PW456"));
    ck_assert_ptr_null(strstr(out, "TK789"));
    ck_assert_ptr_null(strstr(out, "S3CRET-DEFAULT"));
    ck_assert_ptr_nonnull(strstr(out, "\"${BACKUPS:-[redacted]}/pg\""));
    ck_assert_ptr_nonnull(strstr(out, "\"${ONLY}\""));
    ck_assert_ptr_nonnull(strstr(out, "\"password_env\":\t\"REF_PW\"")); /* a name, not a secret */
    ck_assert_ptr_nonnull(strstr(out, "\"webhook\":\t\"[redacted]\""));
    ck_assert_uint_eq(n, 5);
    free(out);
    ck_assert_int_eq(rd_evidence_redact_config("{ nope", &out, &n, &err), RD_ERR_FORMAT);
}
END_TEST

START_TEST(config_keys)
{
    rd_config *cfg = NULL;
    rd_error err;
    char hex[65];
    char *text = rd_asprintf(
        "{\"version\": 1, \"controls\": [\"SOC2 A1.3\", \"ISO27001 A.8.13\"],\n"
        " \"output\": {\"sign\": {\"key\": \"%s\"}},\n"
        " \"targets\": [{\"name\": \"a\", \"engine\": \"postgres\", \"controls\": \"PCI "
        "12.10.2\",\n"
        "   \"catalog\": {\"type\": \"dir\", \"path\": \"/b\"}},\n"
        "  {\"name\": \"b\", \"engine\": \"postgres\", \"catalog\": {\"type\": \"dir\", \"path\": "
        "\"/b\"}}]}",
        priv1);
    ck_assert_msg(rd_config_parse(text, "drill.json", NULL, &cfg, &err) == RD_OK, "%s", err.msg);
    ck_assert_str_eq(cfg->output.sign_key, priv1);
    ck_assert_uint_eq(cfg->controls.n, 2);
    ck_assert_str_eq(cfg->controls.items[1], "ISO27001 A.8.13");
    ck_assert_uint_eq(cfg->targets[0].controls.n, 1);
    ck_assert_str_eq(cfg->targets[0].controls.items[0], "PCI 12.10.2");
    ck_assert_uint_eq(cfg->targets[1].controls.n, 0);
    rd_sha256_hex(text, strlen(text), hex);
    ck_assert_str_eq(cfg->sha256, hex);
    rd_config_free(cfg);
    free(text);
    /* a public key cannot sign: refused at load, before anything runs */
    text = rd_asprintf("{\"version\": 1, \"output\": {\"sign\": {\"key\": \"%s\"}}, \"targets\": "
                       "[{\"name\": \"a\", \"engine\": \"postgres\", \"catalog\": {\"type\": "
                       "\"dir\", \"path\": \"/b\"}}]}",
                       pub1);
    ck_assert_int_eq(rd_config_parse(text, "drill.json", NULL, &cfg, &err), RD_ERR_CONFIG);
    char *want = rd_asprintf("drill.json: output.sign.key: %s: not a PEM private key", pub1);
    ck_assert_str_eq(err.msg, want);
    free(want);
    free(text);
    /* keep_scratch */
    text = rd_asprintf("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": \"postgres\", "
                       "\"keep_scratch\": \"on-failure\", \"keep_scratch_ttl\": \"2h\", "
                       "\"catalog\": {\"type\": \"dir\", \"path\": \"/b\"}}, {\"name\": \"b\", "
                       "\"engine\": \"postgres\", \"catalog\": {\"type\": \"dir\", \"path\": "
                       "\"/b\"}}]}");
    ck_assert_msg(rd_config_parse(text, "drill.json", NULL, &cfg, &err) == RD_OK, "%s", err.msg);
    ck_assert_str_eq(cfg->targets[0].keep_scratch, "on-failure");
    ck_assert_double_eq(cfg->targets[0].keep_scratch_ttl, 7200);
    ck_assert_str_eq(cfg->targets[1].keep_scratch, "never");
    ck_assert_double_eq(cfg->targets[1].keep_scratch_ttl, 86400);
    rd_config_free(cfg);
    free(text);
    text = rd_asprintf("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": \"postgres\", "
                       "\"keep_scratch_ttl\": \"2h\", \"catalog\": {\"type\": \"dir\", \"path\": "
                       "\"/b\"}}]}");
    ck_assert_int_eq(rd_config_parse(text, "drill.json", NULL, &cfg, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "drill.json: targets[0].keep_scratch_ttl: only used with "
                              "keep_scratch \"on-failure\" or \"always\"");
    free(text);
    text = rd_asprintf("{\"version\": 1, \"output\": {\"sign\": {\"path\": \"x\"}}, \"targets\": "
                       "[{\"name\": \"a\", \"engine\": \"postgres\", \"catalog\": {\"type\": "
                       "\"dir\", \"path\": \"/b\"}}]}");
    ck_assert_int_eq(rd_config_parse(text, "drill.json", NULL, &cfg, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "drill.json: output.sign.path: unknown key (expected one of: key)");
    free(text);
}
END_TEST

/* fx_report with the record's fields set */
static rd_report *record_report(void)
{
    rd_report *r = fx_report();
    rd_target_result *t = &r->targets[0];
    r->config_sha256 =
        rd_strdup("ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12");
    r->ci_job_url = rd_strdup("https://ci.example/job/7");
    r->signing_key = rd_strdup("sha256:00ff");
    rd_strv_push(&r->controls, &r->ncontrols, "SOC2 A1.3", NULL);
    rd_strv_push(&r->controls, &r->ncontrols, "ISO <27001>", NULL);
    rd_strv_push(&t->controls, &t->ncontrols, "PCI 12.10.2", NULL);
    t->scratch_type = rd_strdup("server");
    t->isolation = rd_strdup("server: identity compared");
    t->phases[1].started_at_ms = FX_T0 + 1000;
    t->phases[1].finished_at_ms = FX_T0 + 61250;
    return r;
}

START_TEST(record_round_trip)
{
    rd_report *r = record_report(), *back = NULL;
    char *json = NULL, *again = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_to_json(r, &json, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"signing_key\":\t\"sha256:00ff\""));
    ck_assert_ptr_nonnull(strstr(json, "\"started_at\":\t\"2026-01-30T15:00:01.000Z\""));
    ck_assert_int_eq(rd_report_parse_json(json, "r.json", &back, &err), RD_OK);
    ck_assert_str_eq(back->config_sha256, r->config_sha256);
    ck_assert_str_eq(back->ci_job_url, "https://ci.example/job/7");
    ck_assert_uint_eq(back->ncontrols, 2);
    ck_assert_str_eq(back->controls[1], "ISO <27001>");
    ck_assert_uint_eq(back->targets[0].ncontrols, 1);
    ck_assert_str_eq(back->targets[0].isolation, "server: identity compared");
    ck_assert_int_eq(back->targets[0].phases[1].finished_at_ms, FX_T0 + 61250);
    ck_assert_int_eq(rd_report_to_json(back, &again, &err), RD_OK);
    ck_assert_str_eq(again, json);
    /* a merge keeps the record but not the signer */
    rd_report *m = NULL;
    ck_assert_int_eq(rd_report_merge(&back, 1, &m, &err), RD_OK);
    ck_assert_ptr_null(m->signing_key);
    ck_assert_str_eq(m->config_sha256, r->config_sha256);
    ck_assert_str_eq(m->targets[0].controls[0], "PCI 12.10.2");
    rd_report_free(m);
    rd_report_free(back);
    rd_report_free(r);
    free(json);
    free(again);
}
END_TEST

START_TEST(html_summary_and_record)
{
    rd_report *r = record_report();
    char *doc = NULL, *h = file_in("history.jsonl");
    rd_error err;
    /* a passed drill of "orders" with RTO 50s, then a failed one that ran 200s (not an RTO):
     * 82.5s is slower than the last passed drill */
    rd_report *prev = fx_report();
    free(prev->drill_id);
    prev->drill_id = rd_strdup("d-0000");
    prev->targets[0].rto.seconds = 50;
    prev->targets[0].status = RD_PASSED;
    for (size_t k = 0; k < prev->targets[0].nchecks; k++)
        prev->targets[0].checks[k].status = RD_PASSED;
    ck_assert_int_eq(rd_history_append(prev, h, &err), RD_OK);
    rd_report *bad = fx_report();
    bad->targets[0].rto.seconds = 200;
    ck_assert_int_eq(rd_history_append(bad, h, &err), RD_OK);
    rd_report_free(bad);
    ck_assert_int_eq(rd_history_append(r, h, &err), RD_OK);
    ck_assert_int_eq(rd_report_to_html(r, h, &doc, &err), RD_OK);
    char *sum = strstr(doc, "<h2>Summary</h2>");
    ck_assert_ptr_nonnull(sum);
    ck_assert_msg(sum < strstr(doc, "Target: orders"), "the summary comes first");
    ck_assert_ptr_nonnull(strstr(sum, "<td title=\"previous passed drill: 50.0 s\"><span "
                                      "class=\"nok\">&#8593; slower</span></td>"));
    ck_assert_ptr_nonnull(strstr(doc, "<tr><th>Configuration sha256</th><td class=\"mono\">ab12"));
    ck_assert_ptr_nonnull(
        strstr(doc, "<tr><th>CI job</th><td class=\"mono\">https://ci.example/job/7</td></tr>"));
    ck_assert_ptr_nonnull(
        strstr(doc, "<tr><th>Signed by key</th><td class=\"mono\">sha256:00ff</td></tr>"));
    ck_assert_ptr_nonnull(strstr(doc, "<tr><th>Controls</th><td>SOC2 A1.3, ISO &lt;27001&gt;"));
    ck_assert_ptr_nonnull(
        strstr(doc, "<tr><th>Controls these results support</th><td>PCI 12.10.2</td></tr>"));
    ck_assert_ptr_nonnull(strstr(doc, "<tr><th>Not the reference server because</th><td>server: "
                                      "identity compared</td></tr>"));
    ck_assert_ptr_nonnull(strstr(doc, "<td class=\"mono\">2026-01-30T15:00:01.000Z</td>"));
    ck_assert_ptr_nonnull(strstr(doc, "@page{size:A4"));
    ck_assert_ptr_nonnull(strstr(doc, ".target{break-before:page"));
    ck_assert_ptr_null(strstr(doc, "href="));
    free(doc);
    /* JUnit and Prometheus carry the controls too */
    ck_assert_int_eq(rd_report_to_junit(r, &doc, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(doc, "<property name=\"controls\" value=\"PCI 12.10.2\"/>"));
    ck_assert_ptr_nonnull(
        strstr(doc, "<property name=\"drill.signing_key\" value=\"sha256:00ff\"/>"));
    free(doc);
    ck_assert_int_eq(rd_report_to_prometheus(r, NULL, &doc, &err), RD_OK);
    ck_assert_ptr_nonnull(
        strstr(doc, "restoredrill_control_info{target=\"orders\",control=\"PCI 12.10.2\"} 1\n"));
    free(doc);
    /* no earlier drill: no trend */
    ck_assert_int_eq(rd_report_to_html(prev, NULL, &doc, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(doc, "&#8212; no earlier drill"));
    ck_assert_ptr_nonnull(strstr(doc, "not signed (no output.sign.key)"));
    ck_assert_ptr_nonnull(strstr(doc, "<tr><th>CI job</th><td class=\"mono\"><span "
                                      "class=\"muted\">none</span></td></tr>"));
    free(doc);
    ck_assert_int_eq(rd_html_trend(100, 111), 1);
    ck_assert_int_eq(rd_html_trend(100, 109), 0);
    ck_assert_int_eq(rd_html_trend(100, 89), -1);
    ck_assert_int_eq(rd_html_trend(-1, 89), 0);
    rd_report_free(prev);
    rd_report_free(r);
    free(h);
}
END_TEST

static rd_hist_sample hs(double mib, double rto, double target, rd_verdict v)
{
    rd_hist_sample x;
    memset(&x, 0, sizeof x);
    x.bytes = mib * 1048576.0;
    x.rto = rto;
    x.rto_target = target;
    x.rpo = x.rpo_target = -1;
    x.restore = rto < 0 ? -1 : rto - 4; /* 4 s outside the restore */
    x.status = v;
    return x;
}

START_TEST(forecast_fit)
{
    rd_forecast f;
    /* 10 s per MiB, no intercept; a failed drill (elapsed time, not an RTO) is left out */
    rd_hist_sample s[] = {hs(1, 10, 100, RD_PASSED), hs(2, 20, 100, RD_PASSED),
                          hs(5, 999, 100, RD_FAILED), hs(3, 30, 100, RD_PASSED)};
    rd_forecast_fit(s, 4, &f);
    ck_assert_int_eq(f.fitted, 1);
    ck_assert_uint_eq(f.points, 3);
    ck_assert_double_eq_tol(f.slope * 1048576.0, 10.0, 1e-9);
    ck_assert_double_eq_tol(f.intercept, 0.0, 1e-9);
    ck_assert_double_eq_tol(f.r2, 1.0, 1e-12);
    ck_assert_double_eq_tol(f.bytes_at_objective, 10.0 * 1048576.0, 1e-3);
    ck_assert_str_eq(f.note,
                     "the RTO objective (100s) would be missed at about 10.0 MiB (3.3x the newest "
                     "size)");
    /* too short */
    rd_forecast_fit(s, 2, &f);
    ck_assert_int_eq(f.fitted, 0);
    ck_assert_double_eq(f.bytes_at_objective, -1);
    ck_assert_str_eq(f.note, "history too short for a fit: 2 passed drills with a measured restore "
                             "time and a known size, at least 3 needed");
    /* one size only */
    rd_hist_sample same[] = {hs(2, 10, 100, RD_PASSED), hs(2, 11, 100, RD_PASSED),
                             hs(2, 12, 100, RD_PASSED)};
    rd_forecast_fit(same, 3, &f);
    ck_assert_int_eq(f.fitted, 0);
    ck_assert_str_eq(f.note, "no fit: all 3 drills restored recovery points of the same size");
    /* shrinking RTO, no objective */
    rd_hist_sample down[] = {hs(1, 30, 100, RD_PASSED), hs(2, 20, 100, RD_PASSED),
                             hs(3, 10, 100, RD_PASSED)};
    rd_forecast_fit(down, 3, &f);
    ck_assert_int_eq(f.fitted, 1);
    ck_assert_double_eq(f.bytes_at_objective, -1);
    ck_assert_str_eq(f.note, "the RTO does not grow with size in this history: no size is "
                             "forecast to miss the objective");
    rd_hist_sample noobj[] = {hs(1, 10, -1, RD_PASSED), hs(2, 20, -1, RD_PASSED),
                              hs(3, 30, -1, RD_PASSED)};
    rd_forecast_fit(noobj, 3, &f);
    ck_assert_str_eq(f.note, "no RTO objective: nothing to forecast against");
    char b[64];
    ck_assert_str_eq(rd_text_bytes(123456, b, sizeof b), "121 KiB");
    ck_assert_str_eq(rd_text_bytes(1536.0 * 1048576, b, sizeof b), "1.50 GiB");
    ck_assert_str_eq(rd_text_bytes(100, b, sizeof b), "100 bytes");
}
END_TEST

START_TEST(forecast_in_prometheus_and_html)
{
    rd_error err;
    char *h = file_in("history.jsonl"), *prom = NULL, *doc = NULL;
    rd_report *r = NULL;
    /* two drills: too short, no metric */
    for (int i = 1; i <= 3; i++) {
        rd_report_free(r);
        r = fx_report();
        r->targets[0].status = RD_PASSED;
        for (size_t k = 0; k < r->targets[0].nchecks; k++)
            r->targets[0].checks[k].status = RD_PASSED;
        free(r->drill_id);
        r->drill_id = rd_asprintf("d-%d", i);
        r->targets[0].point.bytes = (int64_t)i * 1048576;
        r->targets[0].rto.seconds = 5.0 + 2.0 * i;       /* 5 s + 2 s per MiB */
        r->targets[0].phases[1].seconds = 1.0 + 2.0 * i; /* the restore phase: 4 s elsewhere */
        r->targets[0].rto.target_seconds = 25;
        ck_assert_int_eq(rd_history_append(r, h, &err), RD_OK);
        ck_assert_int_eq(rd_report_to_prometheus_history(r, NULL, h, &prom, &err), RD_OK);
        if (i < 3) {
            ck_assert_ptr_null(strstr(prom, "restoredrill_rto_forecast_bytes"));
        } else {
            /* (25 - 5) / 2 = 10 MiB */
            ck_assert_ptr_nonnull(strstr(prom, "# TYPE restoredrill_rto_forecast_bytes gauge\n"
                                               "restoredrill_rto_forecast_bytes{target=\"orders\"} "
                                               "10485760\n"));
        }
        free(prom);
        ck_assert_int_eq(rd_report_to_html(r, h, &doc, &err), RD_OK);
        if (i < 3)
            ck_assert_ptr_nonnull(strstr(doc, "history too short for a fit: "));
        else
            ck_assert_ptr_nonnull(
                strstr(doc, "Fitted over 3 drills: RTO = 5 s + 2 s per MiB (r&#178; = 1.00): the "
                            "RTO objective (25s) would be missed at about 10.0 MiB (3.3x the "
                            "newest size).</p>"));
        free(doc);
    }
    rd_report_free(r);
    free(h);
}
END_TEST

START_TEST(least_verified_sampling)
{
    rd_points p = {0};
    rd_error err;
    const int64_t base = 1767225600000LL, hour = 3600000LL, t0 = base + 100 * hour;
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "p%d", i);
        rd_point pt = {.id = strdup(id), .created_ms = base + i * 20 * hour, .bytes = -1};
        ck_assert_int_eq(rd_points_push(&p, &pt, NULL), RD_OK);
    }
    rd_points_sort(&p);
    rd_sample_cfg c = {.strategy = (char *)"least-verified", .window = 45 * 3600.0, .max_age = -1};
    rd_sample s;
    /* points at 0, 20, 40, 60, 80 h after base; t0 at 100 h: the 45 h window holds p3 and p4,
     * verified 2 and 1 times; p0-p2, never verified, are outside it */
    size_t counts[5] = {0, 0, 0, 2, 1};
    ck_assert_int_eq(rd_sample_pick_counts(&p, &c, 1, t0, counts, &s, &err), RD_OK);
    ck_assert_uint_eq(s.index, 4);
    ck_assert_uint_eq(s.candidates, 2);
    /* the never-verified points outside the window do not count */
    counts[4] = 3;
    ck_assert_int_eq(rd_sample_pick_counts(&p, &c, 1, t0, counts, &s, &err), RD_OK);
    ck_assert_uint_eq(s.index, 3);
    /* ties: the seed draws among the least verified, every one reachable */
    c.window = -1;
    size_t tie[5] = {1, 0, 4, 0, 0}, seen[5] = {0};
    for (uint64_t seed = 0; seed < 64; seed++) {
        ck_assert_int_eq(rd_sample_pick_counts(&p, &c, seed, t0, tie, &s, &err), RD_OK);
        ck_assert_msg(tie[s.index] == 0, "picked a point verified %zu times", tie[s.index]);
        seen[s.index]++;
        rd_sample again;
        ck_assert_int_eq(rd_sample_pick_counts(&p, &c, seed, t0, tie, &again, &err), RD_OK);
        ck_assert_uint_eq(again.index, s.index); /* reproducible */
    }
    ck_assert(seen[1] > 0 && seen[3] > 0 && seen[4] > 0);
    /* no history: every point is least verified */
    ck_assert_int_eq(rd_sample_pick_counts(&p, &c, 7, t0, NULL, &s, &err), RD_OK);
    c.window = 1;
    ck_assert_int_eq(rd_sample_pick_counts(&p, &c, 7, t0, NULL, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "no recovery points inside the 1s window");
    rd_points_free(&p);
}
END_TEST

START_TEST(coverage_index)
{
    rd_error err;
    char *h = file_in("history.jsonl");
    rd_coverage *cov = NULL;
    rd_report *r = fx_report(); /* orders, failed, point orders-20260130T030000Z.dump */
    ck_assert_int_eq(rd_coverage_load(h, &cov, &err), RD_OK); /* no file: empty */
    ck_assert_uint_eq(rd_coverage_verified(cov, "orders", r->targets[0].point.id), 0);
    rd_coverage_free(cov);
    ck_assert_int_eq(rd_history_append(r, h, &err), RD_OK); /* failed: not a verification */
    r->targets[0].status = RD_PASSED;
    for (size_t k = 0; k < r->targets[0].nchecks; k++)
        r->targets[0].checks[k].status = RD_PASSED;
    ck_assert_int_eq(rd_history_append(r, h, &err), RD_OK);
    r->started_at_ms += 86400000;
    ck_assert_int_eq(rd_history_append(r, h, &err), RD_OK);
    ck_assert_int_eq(rd_coverage_load(h, &cov, &err), RD_OK);
    ck_assert_uint_eq(rd_coverage_verified(cov, "orders", "orders-20260130T030000Z.dump"), 2);
    ck_assert_uint_eq(rd_coverage_verified(cov, "billing", "orders-20260130T030000Z.dump"), 0);
    ck_assert_int_eq(rd_coverage_last(cov, "orders", "orders-20260130T030000Z.dump"),
                     FX_T0 + 86400000);
    rd_coverage_free(cov);
    /* the report's coverage: T counts only when the target passed */
    size_t pts, ver;
    r->targets[0].coverage_map = rd_strdup(".VTB.");
    ck_assert_int_eq(rd_report_coverage(&r->targets[0], &pts, &ver), 1);
    ck_assert_uint_eq(pts, 5);
    ck_assert_uint_eq(ver, 3);
    r->targets[0].status = RD_FAILED;
    ck_assert_int_eq(rd_report_coverage(&r->targets[0], &pts, &ver), 1);
    ck_assert_uint_eq(ver, 2);
    char *doc = NULL;
    ck_assert_int_eq(rd_report_to_html(r, NULL, &doc, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(doc, "<p>2 of 5 recovery points in the window proven restorable "
                                      "(40%); oldest on the left."));
    free(doc);
    rd_report_free(r);
    free(h);
}
END_TEST

/* PITR coverage: the history's passed drills of physical points each prove
 * [the base backup's end, the target]; the report carries the window, the
 * proven stretches and this drill's, in JSON (round trip) and HTML. */
START_TEST(pitr_coverage_history_and_report)
{
    rd_error err;
    char *h = file_in("pitr-history.jsonl");
    rd_coverage *cov = NULL;
    rd_span *sp = NULL;
    put(h, "{\"schema\":\"restoredrill/history/v1\",\"started_at\":\"2026-01-30T12:00:00.000Z\","
           "\"targets\":["
           "{\"name\":\"shop\",\"status\":\"passed\",\"point_id\":\"b1\","
           "\"point_created_at\":\"2026-01-30T10:00:00.000Z\","
           "\"target_time\":\"2026-01-30T10:05:00.000Z\"},"
           "{\"name\":\"shop\",\"status\":\"failed\",\"point_id\":\"b1\","
           "\"point_created_at\":\"2026-01-30T10:00:00.000Z\","
           "\"target_time\":\"2026-01-30T11:00:00.000Z\"},"
           "{\"name\":\"other\",\"status\":\"passed\",\"point_id\":\"b1\","
           "\"point_created_at\":\"2026-01-30T10:00:00.000Z\","
           "\"target_time\":\"2026-01-30T11:00:00.000Z\"}]}\n"
           "{\"schema\":\"restoredrill/history/v1\",\"started_at\":\"2026-01-31T12:00:00.000Z\","
           "\"targets\":[{\"name\":\"shop\",\"status\":\"passed\",\"point_id\":\"dump.sql\","
           "\"point_created_at\":\"2026-01-30T10:00:00.000Z\",\"target_time\":null},"
           "{\"name\":\"shop\",\"status\":\"passed\",\"point_id\":\"b2\","
           "\"point_created_at\":\"2026-01-30T10:30:00.000Z\","
           "\"target_time\":\"2026-01-30T10:30:00.000Z\"}]}\n");
    ck_assert_int_eq(rd_coverage_load(h, &cov, &err), RD_OK);
    ck_assert_uint_eq(rd_coverage_proven(cov, "shop", &sp), 2);
    int64_t b1 = 0, t1 = 0, b2 = 0;
    rd_time_parse("2026-01-30T10:00:00.000Z", &b1, NULL);
    rd_time_parse("2026-01-30T10:05:00.000Z", &t1, NULL);
    rd_time_parse("2026-01-30T10:30:00.000Z", &b2, NULL);
    ck_assert_int_eq(sp[0].from_ms, b1);
    ck_assert_int_eq(sp[0].to_ms, t1 + 1);
    ck_assert_int_eq(sp[1].from_ms, b2); /* a consistency point: one instant */
    ck_assert_int_eq(sp[1].to_ms, b2 + 1);
    free(sp);
    ck_assert_uint_eq(rd_coverage_proven(cov, "nobody", &sp), 0);
    ck_assert_ptr_null(sp);
    rd_coverage_free(cov);

    /* a history line of a physical point records target and reached time */
    rd_report *r = fx_report();
    rd_target_result *t = &r->targets[0];
    t->status = RD_PASSED;
    for (size_t k = 0; k < t->nchecks; k++)
        t->checks[k].status = RD_PASSED;
    t->point.base = rd_strdup("b1");
    t->point.created_at_ms = b1;
    t->point.target_time_ms = t1;
    t->point.reached_time_ms = t1 - 400;
    char *h2 = file_in("pitr-history2.jsonl");
    ck_assert_int_eq(rd_history_append(r, h2, &err), RD_OK);
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(rd_fs_read_file(h2, 1 << 20, &text, &len, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(text, "\"target_time\":\"2026-01-30T10:05:00.000Z\","
                                       "\"reached_time\":\"2026-01-30T10:04:59.600Z\""));
    free(text);
    ck_assert_int_eq(rd_coverage_load(h2, &cov, &err), RD_OK);
    ck_assert_uint_eq(rd_coverage_proven(cov, t->name, &sp), 1);
    ck_assert_int_eq(sp[0].from_ms, b1);
    ck_assert_int_eq(sp[0].to_ms, t1 + 1);
    free(sp);
    rd_coverage_free(cov);

    /* the report: a 20-minute window, 5 minutes proven before, 5 more now */
    t->pitr_window_start_ms = b1;
    t->pitr_window_end_ms = b1 + 20 * 60000 - 1;
    t->pitr_window_ms = 20 * 60000;
    t->pitr_proven = calloc(1, sizeof *t->pitr_proven);
    t->pitr_proven[0].from_ms = b1;
    t->pitr_proven[0].to_ms = b1 + 5 * 60000;
    t->npitr_proven = 1;
    t->pitr_this_from_ms = b1 + 5 * 60000;
    t->pitr_this_to_ms = b1 + 10 * 60000 - 1;
    t->coverage_map = rd_strdup("VT");
    double before = 0, with = 0;
    ck_assert_int_eq(rd_report_pitr_share(t, &before, &with), 1);
    ck_assert(before == 0.25);
    ck_assert(with == 0.5);
    char *json = NULL, *json2 = NULL;
    rd_report *back = NULL;
    ck_assert_int_eq(rd_report_to_json(r, &json, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"proven_share\":\t0.25"));
    ck_assert_ptr_nonnull(strstr(json, "\"share_with_this_drill\":\t0.5"));
    ck_assert_int_eq(rd_report_parse_json(json, "r.json", &back, &err), RD_OK);
    const rd_target_result *bt = &back->targets[0];
    ck_assert_int_eq(bt->pitr_window_start_ms, t->pitr_window_start_ms);
    ck_assert_int_eq(bt->pitr_window_end_ms, t->pitr_window_end_ms);
    ck_assert_int_eq(bt->pitr_window_ms, t->pitr_window_ms);
    ck_assert_uint_eq(bt->npitr_proven, 1);
    ck_assert_int_eq(bt->pitr_proven[0].from_ms, b1);
    ck_assert_int_eq(bt->pitr_proven[0].to_ms, b1 + 5 * 60000);
    ck_assert_int_eq(bt->pitr_this_from_ms, t->pitr_this_from_ms);
    ck_assert_int_eq(bt->pitr_this_to_ms, t->pitr_this_to_ms);
    ck_assert_int_eq(rd_report_to_json(back, &json2, &err), RD_OK);
    ck_assert_str_eq(json2, json);
    char *doc = NULL;
    ck_assert_int_eq(rd_report_to_html(r, NULL, &doc, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(doc, "<p>PITR window 2026-01-30T10:00:00.000Z to "
                                      "2026-01-30T10:19:59.999Z (20m 00s restorable): 25.0% proven "
                                      "restorable by earlier drills, 50.0% with this drill."));
    ck_assert_ptr_nonnull(strstr(doc, "<td class=\"num\">50% of PITR window</td>"));
    free(doc);
    free(json);
    free(json2);
    rd_report_free(back);
    rd_report_free(r);
    free(h);
    free(h2);
}
END_TEST

Suite *evidence_suite(void)
{
    Suite *s = suite_create("evidence");
    TCase *tc = tcase_create("sign");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sign_and_verify_bytes);
    tcase_add_test(tc, bad_keys_are_refused);
    tcase_add_test(tc, detached_file_signature);
    tcase_add_test(tc, signed_history_lines);
    tcase_add_test(tc, signed_line_format);
    tcase_add_test(tc, config_keys);
    tcase_add_test(tc, html_summary_and_record);
    tcase_add_test(tc, forecast_in_prometheus_and_html);
    tcase_add_test(tc, coverage_index);
    tcase_add_test(tc, pitr_coverage_history_and_report);
    suite_add_tcase(s, tc);
    TCase *rc = tcase_create("redact");
    tcase_add_test(rc, config_redaction);
    tcase_add_test(rc, record_round_trip);
    tcase_add_test(rc, forecast_fit);
    tcase_add_test(rc, least_verified_sampling);
    suite_add_tcase(s, rc);
    return s;
}
