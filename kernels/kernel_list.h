// The kernel list: every kernel a backend provides, as CFGAN_KERNEL(return type, name,
// (parameters)) entries. Included (no include guard) wherever the list is spelled out: the
// table type in kernels.h, each backend's declarations and its table, so adding a kernel is
// one line here, the CPU function, the CUDA function and the op that calls them. A backend
// that lacks one fails to link; nothing can be left out of a table.
//
// Conventions (the same on every backend):
// - all pointers are the backend's memory; float32, contiguous, row-major / NCHW;
// - `*_forward` kernels overwrite their outputs;
// - `*_backward` kernels ACCUMULATE (+=) into their input-gradient outputs, so a
//   tensor used twice collects both contributions; those with an `accumulate` flag
//   write their input gradient instead (every element, the buffer's old contents
//   unread) where it is false, which spares the engine a zero fill for the first
//   gradient a tensor receives;
// - kernels never allocate: scratch space comes from the caller (see *_workspace).
// The types the parameters use (UnaryOp, GemmArgs, ConvGeom, ...) are in kernels.h.

// ---- memory (bytes) ----
// nullptr when out of memory
CFGAN_KERNEL(void*, alloc, (size_t bytes))
CFGAN_KERNEL(void, release, (void* p))
CFGAN_KERNEL(void, copy_from_host, (void* dst, const void* src, size_t bytes))
CFGAN_KERNEL(void, copy_to_host, (void* dst, const void* src, size_t bytes))
CFGAN_KERNEL(void, copy, (void* dst, const void* src, size_t bytes))
CFGAN_KERNEL(void, synchronize, ())

// ---- elementwise ----
CFGAN_KERNEL(void, fill, (float* out, float value, int64_t n))
// out (n) = op(in)
CFGAN_KERNEL(void, unary_forward, (UnaryOp op, float alpha, float beta, float* out, const float* in, int64_t n))
// din += dout * op'(in) (din = ... when !accumulate); `out` is op(in) (some ops use it
// instead of `in`)
CFGAN_KERNEL(void, unary_backward,
             (UnaryOp op, float alpha, float beta, float* din, const float* dout, const float* in, const float* out,
              int64_t n, bool accumulate))
CFGAN_KERNEL(void, binary_forward, (BinaryOp op, float* out, const float* a, const float* b, const BroadcastGeom& g))
// y += alpha * x
CFGAN_KERNEL(void, axpy, (float* y, float alpha, const float* x, int64_t n))
// y += a * b (elementwise)
CFGAN_KERNEL(void, mul_accumulate, (float* y, const float* a, const float* b, int64_t n))
// out (contiguous g.shape) = strided view of src
CFGAN_KERNEL(void, strided_copy, (float* out, const float* src, const StridedGeom& g))
// strided view of dst += src (contiguous g.shape); the view must not alias itself
CFGAN_KERNEL(void, strided_accumulate, (float* dst, const float* src, const StridedGeom& g))

// ---- reductions over the middle axis of (outer, r, inner) ----
// Bytes of `workspace` reduce_sum and reduce_max need for this shape (0: none; may be null).
CFGAN_KERNEL(int64_t, reduce_workspace_bytes, (int64_t outer, int64_t r, int64_t inner))
// out (outer, inner) = scale * sum_r in
CFGAN_KERNEL(void, reduce_sum,
             (float* out, const float* in, int64_t outer, int64_t r, int64_t inner, float scale, void* workspace))
// din (outer, r, inner) += scale * dout (outer, inner)
CFGAN_KERNEL(void, reduce_sum_backward,
             (float* din, const float* dout, int64_t outer, int64_t r, int64_t inner, float scale))
// out (outer, inner) = max_r in; argmax (outer, inner) = index along r (first max)
CFGAN_KERNEL(void, reduce_max,
             (float* out, int32_t* argmax, const float* in, int64_t outer, int64_t r, int64_t inner, void* workspace))
CFGAN_KERNEL(void, reduce_max_backward,
             (float* din, const float* dout, const int32_t* argmax, int64_t outer, int64_t r, int64_t inner))
// softmax (or log-softmax) along the middle axis
CFGAN_KERNEL(void, softmax_forward, (float* out, const float* in, int64_t outer, int64_t r, int64_t inner, bool log))
// din += softmax'(dout), given out = softmax(in) (or log-softmax)
CFGAN_KERNEL(void, softmax_backward,
             (float* din, const float* dout, const float* out, int64_t outer, int64_t r, int64_t inner, bool log))

// ---- matrix products ----
CFGAN_KERNEL(void, gemm, (const GemmArgs& args))
// out (outer, C, inner) += bias (C)
CFGAN_KERNEL(void, bias_add, (float* out, const float* bias, int64_t outer, int64_t channels, int64_t inner))
// dbias (C) += sum over outer, inner of dout (outer, C, inner); workspace: bias_backward_workspace_bytes
CFGAN_KERNEL(int64_t, bias_backward_workspace_bytes, (int64_t outer, int64_t channels, int64_t inner))
CFGAN_KERNEL(void, bias_backward,
             (float* dbias, const float* dout, int64_t outer, int64_t channels, int64_t inner, void* workspace))

// ---- convolution (see ConvGeom); workspace holds conv_workspace_floats(g) floats ----
CFGAN_KERNEL(int64_t, conv_workspace_floats, (const ConvGeom& g))
// out (N,K,P,Q) = conv(in, weight); no bias (bias_add does that)
CFGAN_KERNEL(void, conv2d_forward,
             (float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace))
// din (N,C,H,W) += conv2d input gradient of dout (N,K,P,Q) (din = ... when !accumulate)
CFGAN_KERNEL(void, conv2d_backward_input,
             (float* din, const float* dout, const float* weight, const ConvGeom& g, float* workspace, bool accumulate))
// dweight (K,C,R,S) += conv2d weight gradient (dweight = ... when !accumulate)
CFGAN_KERNEL(void, conv2d_backward_weight,
             (float* dweight, const float* dout, const float* in, const ConvGeom& g, float* workspace, bool accumulate))

// ---- batch norm over (N, C, HW), statistics per channel ----
// Bytes of `workspace` the reducing passes (forward_train, backward, backward_eval) need.
CFGAN_KERNEL(int64_t, batch_norm_workspace_bytes, (int64_t n, int64_t c, int64_t hw))
// Training: uses batch statistics, writes save_mean / save_invstd (C) and, when
// running_mean is non-null, updates the running stats with `momentum` (unbiased var).
CFGAN_KERNEL(void, batch_norm_forward_train,
             (float* out, float* save_mean, float* save_invstd, float* running_mean, float* running_var,
              const float* in, const float* gamma, const float* beta, int64_t n, int64_t c, int64_t hw, float momentum,
              float eps, void* workspace))
CFGAN_KERNEL(void, batch_norm_forward_eval,
             (float* out, const float* in, const float* running_mean, const float* running_var, const float* gamma,
              const float* beta, int64_t n, int64_t c, int64_t hw, float eps))
// Training-mode backward; any of din / dgamma / dbeta may be null (not needed); din is
// written when !accumulate, dgamma and dbeta are always added into.
CFGAN_KERNEL(void, batch_norm_backward,
             (float* din, float* dgamma, float* dbeta, const float* dout, const float* in, const float* save_mean,
              const float* save_invstd, const float* gamma, int64_t n, int64_t c, int64_t hw, void* workspace,
              bool accumulate))
// Eval-mode backward (running stats are constants): din += dout * gamma * invstd
CFGAN_KERNEL(void, batch_norm_backward_eval,
             (float* din, float* dgamma, float* dbeta, const float* dout, const float* in, const float* running_mean,
              const float* running_var, const float* gamma, int64_t n, int64_t c, int64_t hw, float eps,
              void* workspace))

// ---- pooling / resampling ----
CFGAN_KERNEL(void, max_pool2d_forward, (float* out, int32_t* argmax, const float* in, const PoolGeom& g))
CFGAN_KERNEL(void, max_pool2d_backward, (float* din, const float* dout, const int32_t* argmax, const PoolGeom& g))
// count_include_pad semantics: every window divides by kernel_h * kernel_w
CFGAN_KERNEL(void, avg_pool2d_forward, (float* out, const float* in, const PoolGeom& g))
CFGAN_KERNEL(void, avg_pool2d_backward, (float* din, const float* dout, const PoolGeom& g))
// in (planes, H, W) -> out (planes, H*scale, W*scale)
CFGAN_KERNEL(void, upsample_nearest2d_forward,
             (float* out, const float* in, int64_t planes, int64_t h, int64_t w, int64_t scale))
CFGAN_KERNEL(void, upsample_nearest2d_backward,
             (float* din, const float* dout, int64_t planes, int64_t h, int64_t w, int64_t scale))

// ---- indexing: in viewed as (outer, dim, inner), idx has n_idx entries in [0, dim) ----
// out (outer, n_idx, inner) = in[:, idx, :]
CFGAN_KERNEL(void, index_select_forward,
             (float* out, const float* in, const int32_t* idx, int64_t n_idx, int64_t outer, int64_t dim,
              int64_t inner))
CFGAN_KERNEL(void, index_select_backward,
             (float* din, const float* dout, const int32_t* idx, int64_t n_idx, int64_t outer, int64_t dim,
              int64_t inner))

// ---- losses (per element / per row; the engine reduces) ----
// out = max(x,0) - x*t + log(1 + exp(-|x|))
CFGAN_KERNEL(void, bce_with_logits_forward, (float* out, const float* logits, const float* target, int64_t n))
// dlogits += dout * (sigmoid(x) - t); dtarget (nullable) += dout * -x
CFGAN_KERNEL(void, bce_with_logits_backward,
             (float* dlogits, float* dtarget, const float* dout, const float* logits, const float* target, int64_t n))
// loss (rows) = logsumexp(logits row) - logits[row, label]
CFGAN_KERNEL(void, cross_entropy_forward,
             (float* loss, const float* logits, const int32_t* labels, int64_t rows, int64_t classes))
// dlogits += dloss[row] * (softmax(row) - onehot(label))
CFGAN_KERNEL(void, cross_entropy_backward,
             (float* dlogits, const float* dloss, const float* logits, const int32_t* labels, int64_t rows,
              int64_t classes))

// ---- random numbers (Philox-4x32-10, see kernels/philox.h) ----
// out[i] = lo + (hi - lo) * u_i, u_i in [0, 1) from stream position offset*4 + i
CFGAN_KERNEL(void, uniform, (float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi))
CFGAN_KERNEL(void, normal, (float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std))
// mask[i] = u_i >= p ? 1/(1-p) : 0; out = in * mask
CFGAN_KERNEL(void, dropout_forward,
             (float* out, float* mask, const float* in, int64_t n, float p, uint64_t seed, uint64_t offset))

// ---- optimizers, in place over n parameters ----
// bias_correction1/2 = 1 - beta^t; weight_decay is L2 added to the gradient (torch.optim.Adam)
CFGAN_KERNEL(void, adam_update,
             (float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
              float eps, float weight_decay, float bias_correction1, float bias_correction2))
// buf = momentum * buf + (g + wd * p) (buf = g + wd * p on the first step); p -= lr * buf
CFGAN_KERNEL(void, sgd_update,
             (float* param, const float* grad, float* momentum_buf, int64_t n, float lr, float momentum,
              float weight_decay, bool first_step))
