/* Helpers shared by the libFuzzer targets; see fuzz.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "util.h"

#ifndef FUZZ_PKI_DIR
#define FUZZ_PKI_DIR "tests/fuzz/pki"
#endif

static char scratch[4096];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)remove(path);
        return 0;
}

static void scratch_remove(void) {
        if (scratch[0])
                (void)nftw(scratch, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_scratch_dir(void) {
        const char *tmp = getenv("TMPDIR");

        if (scratch[0])
                return scratch;
        /* tmpfs when there is one: the state target saves with fsync. */
        if (!tmp || !*tmp)
                tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(scratch, sizeof(scratch), "%s/certvigil-fuzz.XXXXXX", tmp);
        if (!mkdtemp(scratch)) {
                perror("fuzz: mkdtemp");
                abort();
        }
        atexit(scratch_remove);
        return scratch;
}

/* The loaders that take a path get a memfd's /proc/self/fd path: rewriting
 * a file on disk for every input costs milliseconds (ext4 flushes a file
 * truncated and rewritten on close). */
struct memfile {
        char name[64];
        int fd;
        char path[64];
};
static struct memfile memfiles[8];

const char *fuzz_input_file(const char *name, const uint8_t *data, size_t size) {
        struct memfile *m = NULL;
        size_t off = 0;

        for (size_t i = 0; i < ELEMENTSOF(memfiles) && !m; i++)
                if (memfiles[i].name[0] == 0 || strcmp(memfiles[i].name, name) == 0)
                        m = &memfiles[i];
        if (!m || strlen(name) >= sizeof(m->name)) {
                fprintf(stderr, "fuzz: too many input files or too long a name: %s\n", name);
                abort();
        }
        if (m->name[0] == 0) {
                m->fd = memfd_create(name, MFD_CLOEXEC);
                if (m->fd < 0) {
                        perror("fuzz: memfd_create");
                        abort();
                }
                snprintf(m->name, sizeof(m->name), "%s", name);
                snprintf(m->path, sizeof(m->path), "/proc/self/fd/%d", m->fd);
        }
        if (ftruncate(m->fd, 0) < 0) {
                perror("fuzz: ftruncate");
                abort();
        }
        while (off < size) {
                ssize_t n = pwrite(m->fd, data + off, size - off, (off_t)off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        perror("fuzz: pwrite");
                        abort();
                }
                off += (size_t)n;
        }
        return m->path;
}

void fuzz_scratch_write(const char *name, const char *text) {
        char path[4200];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", fuzz_scratch_dir(), name);
        f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
                perror(path);
                abort();
        }
}

char *fuzz_strndup(const uint8_t *data, size_t size) {
        return xstrndup((const char *)data, size);
}

size_t fuzz_chunk(const uint8_t **data, size_t *size, const uint8_t **ret) {
        size_t n;

        if (*size < 2)
                return 0;
        n = (size_t)(*data)[0] << 8 | (*data)[1];
        *data += 2;
        *size -= 2;
        if (n > *size)
                n = *size;
        *ret = *data;
        *data += n;
        *size -= n;
        return n;
}

const char *fuzz_pki_path(const char *name) {
        static char path[4200];
        const char *dir = getenv("CERTVIGIL_FUZZ_PKI");

        snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : FUZZ_PKI_DIR, name);
        return path;
}

unsigned char *fuzz_pki_read(const char *name, size_t *ret_size) {
        const char *path = fuzz_pki_path(name);
        unsigned char *buf = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "rb");

        if (!f) {
                fprintf(stderr, "fuzz: %s: %s (set CERTVIGIL_FUZZ_PKI to tests/fuzz/pki)\n", path, strerror(errno));
                abort();
        }
        for (;;) {
                buf = xrealloc(buf, size + 4096);
                size_t n = fread(buf + size, 1, 4096, f);
                size += n;
                if (n < 4096)
                        break;
        }
        fclose(f);
        *ret_size = size;
        return buf;
}
