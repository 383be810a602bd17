/* The floor for a task scan: list every thread under /proc and read its patch_state, nothing else.
 * Prints "<threads read> <pending>" where pending means neither -1 nor the target (argv[2]).
 * Used by benchmarks/floor.py on a synthetic tree and by the real-kernel suite in the guest. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int target = argc > 2 ? atoi(argv[2]) : 1, proc = open(argv[1], O_RDONLY | O_DIRECTORY);
    DIR *pd = fdopendir(proc); struct dirent *p; long total = 0, pending = 0; char buf[16];
    while ((p = readdir(pd))) {
        if (p->d_name[0] < '0' || p->d_name[0] > '9') continue;
        char path[64]; snprintf(path, sizeof path, "%s/task", p->d_name);
        int tfd = openat(proc, path, O_RDONLY | O_DIRECTORY); if (tfd < 0) continue;
        DIR *td = fdopendir(tfd); struct dirent *t;
        while ((t = readdir(td))) {
            if (t->d_name[0] < '0' || t->d_name[0] > '9') continue;
            snprintf(path, sizeof path, "%s/patch_state", t->d_name);
            int fd = openat(tfd, path, O_RDONLY); if (fd < 0) continue;
            ssize_t n = read(fd, buf, sizeof buf - 1); close(fd); total++;
            if (n > 0) { buf[n] = 0; int v = atoi(buf); if (v != -1 && v != target) pending++; }
        }
        closedir(td);
    }
    printf("%ld %ld\n", total, pending);
    return 0;
}
