/* a header that does not compile, for the build log */
#include "sub/c.h"
this_is_not_opencl here;
