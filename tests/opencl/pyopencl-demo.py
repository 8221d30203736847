#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# pyopencl-demo: a real OpenCL application (Debian's python3-pyopencl, a C++
# extension linked against libOpenCL.so.1, which also links the GL-sharing
# entry points) doing elementwise kernels, a reduction, a scan, an image
# round trip, a USE_HOST_PTR map, a profiled launch and program binaries.
# Prints only what is the same on every run; tests/opencl/pyopencl.sh diffs
# it native against remoted.
import numpy as np, pyopencl as cl, pyopencl.array as cla, pyopencl.clrandom as clr
from pyopencl.reduction import ReductionKernel
from pyopencl.elementwise import ElementwiseKernel
ctx = cl.create_some_context(interactive=False)
q = cl.CommandQueue(ctx, properties=cl.command_queue_properties.PROFILING_ENABLE)
print("device:", ctx.devices[0].name.split()[0])
a = np.arange(1 << 20, dtype=np.float32); b = np.ones_like(a) * 3
da = cla.to_device(q, a); db = cla.to_device(q, b)
lin = ElementwiseKernel(ctx, "float *x, float *y, float *z", "z[i] = 2*x[i] + y[i]", "lin")
dz = cla.empty_like(da); lin(da, db, dz)
print("elementwise ok:", np.allclose(dz.get(), 2*a + b))
dot = ReductionKernel(ctx, np.float64, neutral="0", reduce_expr="a+b", map_expr="(double)x[i]*y[i]", arguments="const float *x, const float *y")
print("dot:", dot(da, db).get())
print("sum:", cla.sum(da).get(), "max:", cla.max(da).get())
s = cla.to_device(q, np.random.RandomState(1).rand(100000).astype(np.float32))
from pyopencl.scan import GenericScanKernel
scan = GenericScanKernel(ctx, np.float32, arguments="__global float *ary, __global float *out", input_expr="ary[i]", scan_expr="a+b", neutral="0", output_statement="out[i] = item;")
r = cla.empty_like(s); scan(s, r)
print("scan ok:", np.allclose(r.get(), np.cumsum(s.get()), rtol=1e-3))
img_fmt = cl.ImageFormat(cl.channel_order.RGBA, cl.channel_type.FLOAT)
src = np.random.RandomState(2).rand(64, 64, 4).astype(np.float32)
im = cl.image_from_array(ctx, src, 4)
out = np.empty_like(src); cl.enqueue_copy(q, out, im, origin=(0, 0), region=(64, 64))
print("image roundtrip ok:", np.array_equal(out, src))
m = cl.Buffer(ctx, cl.mem_flags.READ_WRITE | cl.mem_flags.USE_HOST_PTR, hostbuf=a.copy())
mapped, ev = cl.enqueue_map_buffer(q, m, cl.map_flags.READ, 0, a.shape, a.dtype); ev.wait()
print("map ok:", np.array_equal(mapped, a)); del mapped
prg = cl.Program(ctx, "__kernel void k(__global int *o){o[get_global_id(0)]=get_global_id(0)*3;}").build()
o = cl.Buffer(ctx, cl.mem_flags.WRITE_ONLY, 4*1024); e = prg.k(q, (1024,), None, o); e.wait()
print("profiling positive:", (e.profile.end - e.profile.start) >= 0)
res = np.empty(1024, np.int32); cl.enqueue_copy(q, res, o); print("kernel ok:", int(res[1023]))
print("binaries:", len(prg.binaries[0]) > 0)
