// Linux calls Swift cannot make directly (prctl is variadic).
#include <signal.h>
#include <sys/prctl.h>

// Ask the kernel to send `signal` to this process when its parent (the master) dies, so no
// worker outlives a master killed with SIGKILL.
static inline int stellar_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal);
}

// signalfd(2): the delivery helper takes SIGTERM/SIGINT as a descriptor in its poll loop.
#include <sys/signalfd.h>
