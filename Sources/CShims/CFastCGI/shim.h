// libfcgi (Debian: libfcgi-dev). fcgiapp.h is the reentrant FCGX_* API the workers use.
#include <fcgiapp.h>
