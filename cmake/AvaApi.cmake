# ava_add_api() is defined here by the codegen work.
