/* Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c): a private
 * scratch directory, a file holding the current input for the loaders that
 * read a path, and length-prefixed chunks for targets that take several
 * inputs at once. Test code only: nothing here is linked into certvigil. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry points, declared for -Wmissing-prototypes. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A directory of our own under $TMPDIR (or /tmp), removed at exit with
 * whatever the target put in it. Created on first use; borrowed. */
const char *fuzz_scratch_dir(void);

/* The input as a file for loaders that take a path: a memfd named name,
 * rewritten on every call, whose /proc/self/fd path is returned (borrowed).
 * Aborts on I/O errors: a harness that cannot write its input must not
 * pass. */
const char *fuzz_input_file(const char *name, const uint8_t *data, size_t size);

/* Writes text to the file name in the scratch directory, once, at set-up. */
void fuzz_scratch_write(const char *name, const char *text);

/* data as a NUL-terminated string (stops at an embedded NUL). Caller frees. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Cuts the next chunk off *data: a 2-byte big-endian length, then that many
 * bytes (fewer when the input ends first). Returns 0 when nothing is left. */
size_t fuzz_chunk(const uint8_t **data, size_t *size, const uint8_t **ret);

/* A file of the test PKI the corpus was made with (tests/fuzz/pki/NAME),
 * read whole. Aborts when missing. Caller frees. */
unsigned char *fuzz_pki_read(const char *name, size_t *ret_size);
const char *fuzz_pki_path(const char *name);   /* borrowed, until the next call */
