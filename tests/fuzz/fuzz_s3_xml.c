/* fuzz_s3_xml.c: S3's XML answers, ListObjectsV2 and ListObjectVersions
 * pages (rd_s3_xml_list, libxml2 underneath): the first byte chooses the
 * kind, the rest is the document. */
#include "fuzz_util.h"
#include "restoredrill/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int versions = data[0] & 1;
    rd_s3_objects l = {0};
    char *next = NULL, *next_version = NULL;
    rd_error err;
    rd_error_clear(&err);
    if (rd_s3_xml_list((const char *)data + 1, size - 1, versions, &l, &next,
                       versions ? &next_version : NULL, &err) == RD_OK) {
        free(next);
        free(next_version);
    }
    rd_s3_objects_free(&l);
    return 0;
}
