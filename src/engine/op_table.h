#pragma once
// Everything the engine knows about an op, in one entry of one table (op_table.cpp): its name,
// how it is computed and split over threads, the scratch it needs, its gradient, and what a
// picture of the graph says about it. The executor, autodiff, the DOT export and the profiler
// read this table and nothing else, so a new op is its builder (ops.h), its kernel
// (forward_*.cpp) and one entry here.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/tensor.h"

namespace mn {

class Context;
struct ComputeParams;

struct OpDef {
    Op op;
    const char* name;
    // Thread ith of nth computes its share of t; null for leaves and views (nothing to compute).
    void (*forward)(const ComputeParams& p, Tensor* t);
    // Scratch bytes each thread needs; null: none.
    size_t (*work_bytes)(const Tensor* t, int nth);
    // d(loss)/d(t->src[i]) given g = d(loss)/d(t), built from other ops; `not_differentiable`
    // (which throws) for ops autodiff never meets on a path to a parameter.
    Tensor* (*gradient)(Context& ctx, Tensor* t, int i, Tensor* g);
    // Sources that never take a gradient, bit i for src[i] (a dropout's seed, a loss's labels).
    uint8_t constant_sources;
    // The result aliases a source's memory (no compute, no allocation).
    bool view;
    // Shared by every thread however small it is (the convolution kernels split by rows of
    // images: one thread alone would leave the other idle for the whole layer).
    bool always_shared;
    // What fusion folded into the node (" + bias + relu"), for pictures and profiles; may be null.
    std::string (*fused)(const Tensor* t);
};

const OpDef& op_def(Op op);

// The gradient of an op that has none; throws.
Tensor* not_differentiable(Context& ctx, Tensor* t, int i, Tensor* g);

}  // namespace mn
