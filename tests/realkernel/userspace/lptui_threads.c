/* Many real threads for the scan measurement in the guest: starts argv[1] threads that sleep in
 * pause() (user space, nothing patched on their stacks: the kernel switches them at its next try),
 * prints "ready <n>" once all exist, and exits when its standard input closes. Small stacks, so
 * 10,000 threads fit a small guest. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *sleeper(void *arg) {
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv) {
    int wanted = argc > 1 ? atoi(argv[1]) : 100, started = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (; started < wanted; started++) {
        pthread_t t;
        if (pthread_create(&t, &attr, sleeper, NULL) != 0)
            break;
    }
    printf("ready %d\n", started);
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    return started == wanted ? 0 : 1;
}
