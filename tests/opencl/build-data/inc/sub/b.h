/* found relative to this file (inc/sub/), on no search path */
#include "c.h"
#define B_VAL (C_VAL * 2)
