# The CI warning set (CONVENTIONS.md), as an interface target that our
# targets link privately: ava::warnings. Generated sources get it too.
add_library(ava_warnings INTERFACE)
add_library(ava::warnings ALIAS ava_warnings)
target_compile_options(ava_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
  -Wimplicit-fallthrough)
if(AVA_WERROR)
  target_compile_options(ava_warnings INTERFACE -Werror)
endif()
