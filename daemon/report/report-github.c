/* GitHub Actions: workflow commands that annotate the run (::error for
 * critical, ::warning, ::notice for info), and a Markdown job summary for
 * $GITHUB_STEP_SUMMARY. The escaping follows the runner's own
 * (actions/toolkit command.ts): %, CR, LF in data; also : and , in
 * properties. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "util.h"

static void gh_escaped(FILE *f, const char *s, bool property) {
        for (; s && *s; s++) {
                if (*s == '%')
                        fputs("%25", f);
                else if (*s == '\r')
                        fputs("%0D", f);
                else if (*s == '\n')
                        fputs("%0A", f);
                else if (property && *s == ':')
                        fputs("%3A", f);
                else if (property && *s == ',')
                        fputs("%2C", f);
                else
                        fputc(*s, f);
        }
}

/* buf and len are open_memstream()'s: only valid after fclose(). */
static int finish(FILE *f, char **buf, size_t *len, char **ret, size_t *ret_len) {
        if (fclose(f) != 0) {
                free(*buf);
                return -ENOMEM;
        }
        *ret = *buf;
        *ret_len = *len;
        return 0;
}

static int github_render(const struct report *r, bool color, char **ret, size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0, counts[3];
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -errno;
        for (size_t i = 0; i < r->n_platforms; i++) {
                const struct report_platform *rp = &r->platforms[i];
                for (size_t j = 0; j < rp->findings->n; j++) {
                        const struct finding *fd = &rp->findings->items[j];
                        _cleanup_free_ char *title = NULL;
                        /* Silenced and folded ones are told, not failed. */
                        const char *cmd = !finding_counts(fd)                  ? "notice"
                                          : fd->severity == SEVERITY_CRITICAL  ? "error"
                                          : fd->severity == SEVERITY_WARNING ? "warning"
                                                                             : "notice";
                        _cleanup_free_ char *cause = fd->caused_by ? xasprintf(" (caused by %s)", fd->caused_by->id)
                                                                   : NULL;
                        _cleanup_free_ char *more = fd->n_affected > 1
                                                            ? xasprintf(" and %zu more", fd->n_affected - 1)
                                                            : NULL;
                        title = xasprintf("certvigil %s %s%s%s%s%s", rp->platform->name, fd->def->id,
                                          fd->name ? " " : "", fd->name ? fd->name : "", more ? more : "",
                                          fd->silenced ? " (silenced)" : cause ? cause : "");
                        fprintf(f, "::%s title=", cmd);
                        gh_escaped(f, title, true);
                        fputs("::", f);
                        gh_escaped(f, fd->message, false);
                        fputc('\n', f);
                }
        }
        report_count(r, counts);
        fprintf(f, "certvigil: %s (%zu critical, %zu warning, %zu info) in %llu ms\n", report_status_string(r),
                counts[SEVERITY_CRITICAL], counts[SEVERITY_WARNING], counts[SEVERITY_INFO],
                (unsigned long long)(r->duration_usec / USEC_PER_MSEC));
        return finish(f, &buf, &len, ret, ret_len);
}

static void md_cell(FILE *f, const char *s) {
        for (; s && *s; s++) {
                if (*s == '|' || *s == '\\' || *s == '`' || *s == '*' || *s == '_' || *s == '<' || *s == '>')
                        fputc('\\', f);
                fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
        }
}

int report_github_summary(const struct report *r, char **ret, size_t *ret_len) {
        static const char *const icon[] = { ":information_source:", ":warning:", ":x:" };
        char *buf = NULL, when[RFC3339_MAX];
        size_t len = 0, counts[3];
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -errno;
        report_count(r, counts);
        fprintf(f, "## certvigil audit: %s\n\n", report_status_string(r));
        fprintf(f, "%zu critical, %zu warning, %zu info; %zu platform%s audited at %s in %llu ms.\n\n",
                counts[SEVERITY_CRITICAL], counts[SEVERITY_WARNING], counts[SEVERITY_INFO], r->n_platforms,
                r->n_platforms == 1 ? "" : "s", format_rfc3339(r->started, when),
                (unsigned long long)(r->duration_usec / USEC_PER_MSEC));
        if (counts[0] + counts[1] + counts[2] > 0) {
                fputs("| | Platform | Finding | Name | Address | Message |\n|---|---|---|---|---|---|\n", f);
                for (size_t i = 0; i < r->n_platforms; i++) {
                        const struct report_platform *rp = &r->platforms[i];
                        for (size_t j = 0; j < rp->findings->n; j++) {
                                const struct finding *fd = &rp->findings->items[j];
                                fprintf(f, "| %s | ", icon[finding_counts(fd) ? fd->severity : SEVERITY_INFO]);
                                md_cell(f, rp->platform->name);
                                fputs(" | `", f);
                                fputs(fd->def->id, f);
                                fputs("` | ", f);
                                md_cell(f, fd->name ? fd->name : "");
                                fputs(" | ", f);
                                md_cell(f, fd->address ? fd->address : "");
                                fputs(" | ", f);
                                if (fd->caused_by) {
                                        fputs("(caused by `", f);
                                        fputs(fd->caused_by->id, f);
                                        fputs("`) ", f);
                                }
                                md_cell(f, fd->message);
                                fputs(" |\n", f);
                        }
                }
                fputc('\n', f);
        }
        return finish(f, &buf, &len, ret, ret_len);
}

const struct report_writer report_writer_github = {
        .name = "github",
        .render = github_render,
};
