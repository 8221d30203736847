/* includes a header that exists nowhere */
#include "nowhere.h"
