# Lists the extension functions an OpenCL header declares, as C initialisers
# { "extension", "function" }, for cl-ext-fns (tests/opencl/CMakeLists.txt runs
# it over CL/cl_ext.h, the sharing headers and spec/opencl/pocl-ext.h).
#
# A function belongs to the extension whose "#define cl_<name> 1" came last
# before it in its header; one before any such line (cl_gl.h's core sharing
# functions) to the header's default extension, given as -v default=NAME.
# A declaration names the function at the start of a line or right after
# CL_API_CALL; function-pointer typedefs (NAME_fn) are not functions. Each name once.
FNR == 1 {
	ext = dflt[FILENAME]
}
/^#define[ \t]+cl_[a-z0-9_]+[ \t]+1[ \t]*$/ {
	ext = $2
}
match($0, /^cl[A-Z][A-Za-z0-9_]*[ \t]*\(/) || match($0, /CL_API_CALL[ \t]+cl[A-Z][A-Za-z0-9_]*[ \t]*\(/) {
	name = substr($0, RSTART, RLENGTH)
	sub(/^CL_API_CALL[ \t]+/, "", name)
	sub(/[ \t]*\($/, "", name)
	if (name !~ /_fn$/ && !(name in seen)) {
		seen[name] = 1
		printf("\t{ \"%s\", \"%s\" },\n", ext == "" ? "" : ext, name)
	}
}
BEGIN {
	# "cl_gl.h=cl_khr_gl_sharing" pairs
	n = split(defaults, pairs, ",")
	for (i = 1; i <= n; i++) {
		split(pairs[i], kv, "=")
		for (j = 1; j < ARGC; j++)
			if (ARGV[j] ~ ("/" kv[1] "$"))
				dflt[ARGV[j]] = kv[2]
	}
}
