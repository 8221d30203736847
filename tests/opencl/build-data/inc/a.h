/* nested: sub/b.h, found relative to this file */
#include "sub/b.h"
#define A_VAL (B_VAL + 1)
