/* outside every -I directory: reached through ".." from this file */
#include "../common/shared.h"
#define UP_VAL (SHARED_VAL + 100)
