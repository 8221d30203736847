# AVA_SANITIZE: the whole build with AddressSanitizer and UndefinedBehaviorSanitizer,
# stopping at the first report. A build mode, so it applies to every target.
if(AVA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
